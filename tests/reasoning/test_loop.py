"""ReasonerLoop: the slow loop shared by Pilot and the ROS reasoner_node."""

import time

import numpy as np

from cognitivedrone.reasoning.base import Reasoner, Rewrite
from cognitivedrone.reasoning.loop import ReasonerLoop


class Recording(Reasoner):
    def __init__(self):
        self.events = []

    def reset(self):
        self.events.append("reset")

    def rewrite(self, instruction, image):
        self.events.append(instruction)
        return Rewrite("")


def wait_until(predicate, timeout_s=5.0):
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_the_reasoner_is_reset_between_calls_once_per_task_even_with_the_same_words():
    r = Recording()
    answers = []
    loop = ReasonerLoop(r, hz=50, timeout_s=1.0, on_answer=lambda task, rw: answers.append(task)).start()
    try:
        loop.offer_frame(np.zeros((4, 4, 3), np.uint8))
        loop.set_task(1, "the largest number")
        wait_until(lambda: answers.count(1) >= 3)
        loop.set_task(2, "the largest number")  # a new flight, the same words
        wait_until(lambda: answers.count(2) >= 3)
    finally:
        loop.close()
    assert r.events.count("reset") == 2
    assert r.events[0] == "reset" and r.events[1] == "the largest number"
    second = r.events.index("reset", 1)
    assert second >= 4 and all(e == "the largest number" for e in r.events[1:second])  # 3+ calls on task 1 first


class Down(Reasoner):
    """A backend whose server is down: every call fails alike."""

    def rewrite(self, instruction, image):
        raise ConnectionRefusedError("[Errno 111] Connection refused")


def test_a_reasoner_failing_on_every_call_is_reported_once_in_a_while_and_counted_always(monkeypatch):
    from cognitivedrone.reasoning import loop as loop_module

    lines = []
    monkeypatch.setattr(loop_module, "_warn_once_in_a_while", loop_module.ThrottledLog(30.0, lines.append))
    for _ in range(3):  # three episodes, each with its own loop, as a benchmark worker flies them
        loop = ReasonerLoop(Down(), hz=50.0, timeout_s=1.0, on_answer=lambda task, rw: None).start()
        loop.set_task(1, "fly through the gate with the digit 7")
        loop.offer_frame(np.zeros((8, 8, 3), np.uint8))
        wait_until(lambda: loop.stats.reasoner_errors >= 5)
        loop.close()
    assert len(lines) == 1 and "Connection refused" in lines[0]

    throttled = loop_module.ThrottledLog(0.05, lines.append)
    for _ in range(4):
        throttled("reasoner failed (x)")
    time.sleep(0.06)
    throttled("reasoner failed (x)")
    assert lines[1:] == ["reasoner failed (x)", "reasoner failed (x) (and 3 more time(s) in the last 0.05 s)"]
