"""The task domain: what a benchmark episode is (gates, pictures, an instruction), apart from how it
is flown or judged. Every layer above may import it; it imports only the package's foundation
(cognitivedrone.resources, bounded_json, types). docs/design.md, Layers."""
