"""PLACEHOLDER for the log follower (replaced by the real program on merge).

Standard library only; reads its config line on stdin, then writes one beat a
second until stdin reaches EOF.
"""

import json
import sys
import threading
import time


def main() -> int:
    sys.stdin.readline()
    stop = threading.Event()

    def wait_for_eof() -> None:
        sys.stdin.read()
        stop.set()

    threading.Thread(target=wait_for_eof, daemon=True).start()
    while not stop.is_set():
        sys.stdout.write(json.dumps({"t": "beat", "at": time.time()}) + "\n")
        sys.stdout.flush()
        stop.wait(1.0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
