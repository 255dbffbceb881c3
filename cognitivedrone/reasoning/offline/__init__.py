"""The offline reasoner: a small perception model (what each billboard shows, what each gate
looks like) trained here on rendered scenes, and a rule-based solver over the vocabulary's tags."""
