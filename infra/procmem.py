"""Memory of this process, for the soak and the reliability tests (Linux ``/proc``)."""

from __future__ import annotations

import os
import resource


def rss_mb() -> float:
    """Current resident set size of this process, in MiB (falls back to the peak off Linux)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as fh:
            pages = int(fh.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def peak_rss_mb() -> float:
    """Peak resident set size of this process, in MiB.

    ``VmHWM`` (Linux) belongs to this program's own address space; ``ru_maxrss`` would also
    carry the parent's peak into a child started with fork/vfork + exec.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_peak() -> bool:
    """Reset this process's peak RSS (``VmHWM``) to its current RSS; ``False`` where Linux's
    ``/proc/self/clear_refs`` is missing or refuses."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
            fh.write("5")
        return True
    except OSError:
        return False
