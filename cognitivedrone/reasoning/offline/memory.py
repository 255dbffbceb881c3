"""What the offline reasoner has seen over the views of one task, a billboard per entry.

One view is not always enough: a narrow camera (a RealSense's 69°) shows two of three billboards
from the start, and close to the gates fewer still. The reasoner adds each view's billboards to a
`BoardMemory` and answers over all of them, so "the largest number" is judged among every
billboard seen, not the larger of the two in view.

Which sighting is which billboard, with no map or odometry: first where it is, then what it looks
like. Between two views close in time every billboard moves alike (a turn shifts them all, flying
on spreads them a little), so a view's billboards are matched to the last view's by position,
after the shift most of them share (`_track`); a billboard not so tracked is matched by the same
gate (shape and colour) or the same picture, each read with confidence. Tracking comes first
because the looks are what is uncertain: a gate read round in one frame and triangular in the next
is one billboard, not two. A reading seen in few views of many (a gate misread
once) does not count as a billboard of its own (`boards`).

Each billboard's reading pools its views: the picture probabilities averaged over the views that
show it whole, the gate's size, shape and colour by a vote weighted by confidence over the views
whose gate crop lies in the frame. A frame's noise and compression are its own, so one noisy view
misreading a 9 as a 6 is outvoted by the others; a view that shows the gate cut off by the frame's
bottom edge has no say in its colour while another shows it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # perception.py needs torch; this module does not
    from cognitivedrone.reasoning.offline.boards import Billboard

SAME_PICTURE_P = 0.6  # a picture read at least this sure identifies its billboard across views
RARE_SHARE = 1 / 3  # an entry seen in fewer than this share of the best-seen one's views is left out
SURE_VIEWS = 2  # ...unless its picture, read surely, is in this many views and on no other (`boards`)
TRACK_REACH = 0.6  # board widths a billboard may move between two views beyond the shift they share
# A shift only one billboard vouches for is believed only this small (image half-widths): a lone
# billboard far from the last view's may be another one come into view.
LONE_SHIFT = 0.3


def _clarity(b: Billboard) -> float:
    """How well a sighting shows its billboard: whole beats cut by the frame's edge, then sureness."""
    return (0.0 if b.partly_seen else 1.0) + float(b.asset_probs.max()) * min(b.looks_p[1], b.looks_p[2])


@dataclass
class Sighting:
    clearest: Billboard  # the clearest single view of it yet
    views: int = 0
    # Pooled over views: picture probabilities (whole views, and cut ones apart), gate votes.
    probs_whole: np.ndarray | None = None
    probs_cut: np.ndarray | None = None
    gate_reads: list = field(default_factory=list)  # (size, shape, colour) with their confidences, gate in frame
    gate_reads_cut: list = field(default_factory=list)  # the same from views that cut the gate off
    board: Billboard | None = None  # the pooled reading (`_pool`)

    def add(self, b: Billboard) -> None:
        self.views += 1
        if _clarity(b) > _clarity(self.clearest):
            self.clearest = b
        p = np.asarray(b.asset_probs, np.float64)
        if b.partly_seen:
            self.probs_cut = p if self.probs_cut is None else self.probs_cut + p
        else:
            self.probs_whole = p if self.probs_whole is None else self.probs_whole + p
        (self.gate_reads if b.gate_seen else self.gate_reads_cut).append(((b.size, b.shape, b.color), b.looks_p))
        self._pool()

    def _pool(self) -> None:
        probs = self.probs_whole if self.probs_whole is not None else self.probs_cut
        reads = self.gate_reads or self.gate_reads_cut
        looks, looks_p = [], []
        for k in range(3):
            # Each view votes its confidence for what it read; the winner's confidence is its votes
            # over the views: unanimous 0.95-sure views are 0.95 sure, a 2-to-1 split much less.
            tally: dict[str, float] = defaultdict(float)
            for values, confs in reads:
                tally[values[k]] += float(confs[k])
            value = max(tally, key=tally.get)
            looks.append(value)
            looks_p.append(tally[value] / len(reads))
        self.board = replace(self.clearest, asset_probs=(probs / probs.sum()).astype(np.float32),
                             size=looks[0], shape=looks[1], color=looks[2], looks_p=tuple(looks_p))


def _same_picture_read_otherwise(a: Billboard, b: Billboard) -> bool:
    """Both pictures read surely, and differently: not one billboard, wherever they are."""
    return (a.asset_probs.max() >= SAME_PICTURE_P and b.asset_probs.max() >= SAME_PICTURE_P
            and int(a.asset_probs.argmax()) != int(b.asset_probs.argmax()))


def _read_as_another(entry: Billboard, b: Billboard) -> bool:
    """`b`'s picture read surely, and not as `entry`'s: not that billboard by its gate's looks alone
    (a distractor or another gate's billboard may stand by the same looks). An unsure reading of
    `b` says little: a far view of a billboard read surely up close is often misread. Nor does
    an entry seen only cut by the frame's edge (its reading is then a cut view's) turn `b` away:
    a mosquito half in view read 0.6 sure as a donkey kept the mosquito, seen whole a moment
    later, from its entry (two entries, two mammals, no answer in `stack sim`'s episode 17)."""
    return (b.asset_probs.max() >= SAME_PICTURE_P and not entry.partly_seen
            and int(entry.asset_probs.argmax()) != int(b.asset_probs.argmax()))


def _track(last: list[Billboard], boards: list[Billboard], clearest: list[Billboard] | None = None) -> dict[int, int]:
    """Which of `boards` (this view) is which of `last` (the view before): {index in boards: index
    in last}. Every pair proposes the shift all billboards made; the shift that carries the most
    billboards onto one of the last view's, within TRACK_REACH board widths, wins (then the one
    with the least left over). A shift that carries one billboard only must be small (LONE_SHIFT).
    `clearest`: per billboard of `last`, the clearest view of its entry; a billboard read surely
    as another picture than that is never carried onto it (one seen alone after a blurred glimpse
    of another is not that other)."""
    clearest = clearest or last
    best: tuple[int, float] = (0, 0.0)
    pairs: dict[int, int] = {}
    for a in last:
        for b in boards:
            du, dv = b.u - a.u, b.v - a.v
            taken: dict[int, int] = {}
            err = 0.0
            for i, nb in enumerate(boards):
                dist = [abs(nb.u - du - o.u) + abs(nb.v - dv - o.v) for o in last]
                j = int(np.argmin(dist))
                reach = TRACK_REACH * 2 * max(nb.scale, last[j].scale)  # a width w spans 2w in uv
                if (dist[j] <= reach and j not in taken.values() and not _same_picture_read_otherwise(nb, last[j])
                        and not _same_picture_read_otherwise(nb, clearest[j])):
                    taken[i] = j
                    err += dist[j]
            if len(taken) < 2 and max(abs(du), abs(dv)) > LONE_SHIFT:
                continue
            if (len(taken), -err) > (best[0], -best[1]):
                best, pairs = (len(taken), err), taken
    return pairs


class BoardMemory:
    def __init__(self):
        self.entries: list[Sighting] = []
        self._settled: set[int] = set()  # entries once counted with SURE_VIEWS views or more (`sightings`)
        self._together: set[frozenset[int]] = set()  # pairs of entries one view showed both of
        self._last: list[tuple[Sighting, Billboard]] = []  # the last view's billboards and their entries

    def _match(self, b: Billboard) -> Sighting | None:
        picture = int(b.asset_probs.argmax())
        for e in self.entries:
            if (e.board.shape, e.board.color) == (b.shape, b.color) and not _read_as_another(e.board, b):
                return e
        for e in self.entries:
            if (b.asset_probs.max() >= SAME_PICTURE_P and e.board.asset_probs.max() >= SAME_PICTURE_P
                    and int(e.board.asset_probs.argmax()) == picture):
                return e
        return None

    def add(self, boards: list[Billboard]) -> None:
        """One view's billboards. Two in one view are two billboards, whatever they look like."""
        tracked = _track([b for _, b in self._last], boards, [e.clearest for e, _ in self._last]) if self._last else {}
        taken: set[int] = set()
        view: list[tuple[Sighting, Billboard]] = []
        for i in sorted(range(len(boards)), key=lambda k: (k not in tracked, -_clarity(boards[k]))):
            b = boards[i]
            e = self._last[tracked[i]][0] if i in tracked else self._match(b)
            if e is None or id(e) in taken:
                self.entries.append(e := Sighting(b))
            e.add(b)
            taken.add(id(e))
            view.append((e, b))
        self._last = view
        # Once counted from more than one view, a billboard stays: the drone keeps seeing the one
        # ahead of it, and a billboard seen only during the look-around must not drop out of the
        # question as the one ahead gathers views.
        self._settled |= {id(e) for e in self._counted() if e.views >= SURE_VIEWS}
        self._together |= {frozenset((id(a), id(c))) for i, (a, _) in enumerate(view) for c, _ in view[i + 1:]}

    def in_view(self, entry: Sighting) -> Billboard | None:
        """This view's sighting of `entry` (one of `sightings()`), or None where this view does not
        show it."""
        return next((b for e, b in self._last if e is entry), None)

    def boards(self) -> list[Billboard]:
        """The billboards seen, in the order first seen, each its views' pooled reading (`sightings`)."""
        return [e.board for e in self.sightings()]

    def sightings(self, rare_too: bool = False) -> list[Sighting]:
        """The billboards seen, in the order first seen; without the rarely seen readings, except a
        picture read surely in SURE_VIEWS views or more that no well-seen billboard shows: a narrow
        camera's look-around shows the third billboard in two views of fifteen, and that is often
        the one asked for."""
        if rare_too:  # every entry, each picture once (the best seen entry that reads it surely)
            return self._one_per_picture(list(self.entries))
        return self._one_per_picture(self._counted())

    def _counted(self) -> list[Sighting]:
        if not self.entries:
            return []
        most = max(e.views for e in self.entries)
        common = {id(e) for e in self.entries if e.views >= RARE_SHARE * most}
        shown = {int(e.board.asset_probs.argmax()) for e in self.entries
                 if id(e) in common and e.board.asset_probs.max() >= SAME_PICTURE_P}
        return [e for e in self.entries if id(e) in common or id(e) in self._settled or (
            e.views >= SURE_VIEWS and e.board.asset_probs.max() >= SAME_PICTURE_P
            and int(e.board.asset_probs.argmax()) not in shown)]

    def _one_per_picture(self, counted: list[Sighting]) -> list[Sighting]:
        """No two billboards of a task show one picture: two entries read surely as the same
        picture, never in one view together, are one billboard tracked apart, and the better seen
        one speaks for it."""
        best_seen: dict[int, Sighting] = {}
        for e in counted:
            if e.board.asset_probs.max() >= SAME_PICTURE_P:
                k = int(e.board.asset_probs.argmax())
                if k not in best_seen or e.views > best_seen[k].views:
                    best_seen[k] = e

        def stays(e: Sighting) -> bool:
            if e.board.asset_probs.max() < SAME_PICTURE_P:
                return True
            first = best_seen[int(e.board.asset_probs.argmax())]
            return first is e or frozenset((id(e), id(first))) in self._together

        return [e for e in counted if stays(e)]
