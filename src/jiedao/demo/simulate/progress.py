"""The simulation's progress line: rewritten in place on a terminal, every 10 % otherwise."""

import sys


class Progress:
    def __init__(self, total, out=None, label="生成历史工单"):
        self.total, self.label = max(total, 1), label
        self.out = out if out is not None else sys.stdout
        self.tty = hasattr(self.out, "isatty") and self.out.isatty()
        self.last_decile = -1

    def _write(self, text):
        try:
            self.out.write(text, ending="")  # Django's OutputWrapper
        except TypeError:
            self.out.write(text)
        self.out.flush()

    def update(self, done, events):
        share = done / self.total
        line = f"{self.label} {share:4.0%}  {done:,}/{self.total:,} 件工单 · {events:,} 条流转记录"
        if self.tty:
            self._write("\r" + line)
        elif int(share * 10) > self.last_decile:
            self.last_decile = int(share * 10)
            self._write(line + "\n")

    def finish(self):
        if self.tty:
            self._write("\n")
