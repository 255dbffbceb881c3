"""What the offline reasoner has seen over the views of one task, a billboard per entry.

One view is not always enough: a narrow camera (a RealSense's 69°) shows two of three billboards
from the start, and close to the gates fewer still. The reasoner adds each view's billboards to a
`BoardMemory` and answers over all of them, so "the largest number" is judged among every
billboard seen, not the larger of the two in view.

Which sighting is which billboard, with no map or odometry: the same gate (shape and colour) or
the same picture, each read with confidence. A reading seen in few views of many (a gate misread
once) does not count as a billboard of its own (`boards`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # perception.py needs torch; this module does not
    from cognitivedrone.reasoning.offline.perception import Billboard

SAME_PICTURE_P = 0.6  # a picture read at least this sure identifies its billboard across views
RARE_SHARE = 1 / 3  # an entry seen in fewer than this share of the best-seen one's views is left out


def _clarity(b: Billboard) -> float:
    """How well a sighting shows its billboard: whole beats cut by the frame's edge, then sureness."""
    return (0.0 if b.partly_seen else 1.0) + float(b.asset_probs.max()) * min(b.looks_p[1], b.looks_p[2])


@dataclass
class Sighting:
    board: Billboard  # the clearest view of it yet
    views: int


class BoardMemory:
    def __init__(self):
        self.entries: list[Sighting] = []

    def _match(self, b: Billboard) -> Sighting | None:
        picture = int(b.asset_probs.argmax())
        for e in self.entries:
            if (e.board.shape, e.board.color) == (b.shape, b.color):
                return e
        for e in self.entries:
            if (b.asset_probs.max() >= SAME_PICTURE_P and e.board.asset_probs.max() >= SAME_PICTURE_P
                    and int(e.board.asset_probs.argmax()) == picture):
                return e
        return None

    def add(self, boards: list[Billboard]) -> None:
        """One view's billboards. Two in one view are two billboards, whatever they look like."""
        taken: set[int] = set()
        for b in sorted(boards, key=_clarity, reverse=True):
            e = self._match(b)
            if e is None or id(e) in taken:
                self.entries.append(e := Sighting(b, 1))
            else:
                e.views += 1
                if _clarity(b) > _clarity(e.board):
                    e.board = b
            taken.add(id(e))

    def boards(self) -> list[Billboard]:
        """The billboards seen, in the order first seen, each by its clearest sighting; without the
        rarely seen readings."""
        if not self.entries:
            return []
        most = max(e.views for e in self.entries)
        return [e.board for e in self.entries if e.views >= RARE_SHARE * most]
