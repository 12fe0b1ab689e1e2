"""A named lock holds across processes and is released when its holder is killed."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

from autoclip_core.db.engine import Database
from autoclip_core.db.locks import held

HOLDER = """
import sys, time
from autoclip_core.db.engine import make_engine
from autoclip_core.db.locks import held
with held(make_engine(sys.argv[1]), "upload:item:channel"):
    print("held", flush=True)
    time.sleep(60)
"""


def test_a_lock_another_process_holds_is_waited_for_and_freed_when_that_process_is_killed(
    db: Database,
) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, db.url], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        acquired = threading.Event()

        def take() -> None:
            with held(db.engine, "upload:item:channel"):
                acquired.set()

        with held(db.engine, "upload:item:other-channel"):  # another name is free
            pass
        taker = threading.Thread(target=take)
        taker.start()
        assert not acquired.wait(0.5)
        holder.kill()  # SIGKILL: no clean-up runs in the holder
        assert acquired.wait(10)
        taker.join()
    finally:
        holder.kill()
        holder.wait()


def test_threads_of_one_process_take_turns(db: Database) -> None:
    engine = db.engine
    inside: list[int] = []
    overlaps: list[int] = []

    def work(n: int) -> None:
        with held(engine, "x"):
            if inside:
                overlaps.append(n)
            inside.append(n)
            time.sleep(0.01)
            inside.remove(n)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert overlaps == []
