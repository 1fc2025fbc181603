#!/usr/bin/env python3
"""Groups a callgrind dump's self costs (instructions) into areas, per call.

    bench/cgareas.py CALLS callgrind.out.PID.1 [...]

Inclusive costs are unreliable for Go under callgrind (goroutine switches are
not calls and returns), self costs are exact; this sums them by the function's
package or role so that two dumps can be compared area by area.
"""
import re
import subprocess
import sys

AREAS = [
    ("stack growth (newstack, copystack, unwinding)", r"runtime\.(newstack|copystack|adjust|step$|pcvalue|findfunc|funcspdelta|\(\*moduledata\)\.textAddr|\(\*stkframe\)|\(\*unwinder\)|getStackMap|stackalloc|stackfree|stackpoolalloc|round2|gentraceback|funcInfo|pcdatavalue|readvarint|funcdata)"),
    ("GC and allocation", r"runtime\.(malloc|mallocgc|memclr|\(\*mspan\)|\(\*mcache\)|\(\*mcentral\)|\(\*mheap\)|gc|scan|greyobject|markBits|\(\*gcWork\)|\(\*sweep|sweep|tryDefer|wbBuf|gcWriteBarrier|bulkBarrier|heapBits|\(\*spanSet\)|newobject|makeslice|growslice|nextFreeFast|findObject|typePointers|\(\*gcBits\)|spanOf|deductAssist|memmove)|gcWriteBarrier|runtime\.\(\*mspan|^runtime\.\(\*pageAlloc"),
    ("scheduler, locks, channels, timers", r"runtime\.(schedule|findRunnable|park|gopark|goready|ready|casgstatus|lock|unlock|chan|selectgo|sellock|selunlock|send|recv|mcall|gogo|futex|notesleep|notewakeup|runq|wakep|stealWork|netpoll|newproc|goexit|gfget|gfput|mstart|stopm|startm|acquirem|releasem|\(\*timer|\(\*timers|time|nanotime|resetspinning|checkTimers|sysmon|usleep|osyield|procyield|semacquire|semrelease|closechan|makechan|\(\*waitq|systemstack|execute|handoffp|entersyscall|exitsyscall|reentersyscall|save|sync_|internal_sync|poll_|\(\*pollDesc|netpollblock|netpollready|netpollunblock|\(\*hchan|chanrecv|chansend|selectnbsend|selectnbrecv)|^sync\.|^internal/sync|sync/atomic|^internal/runtime/atomic|^time\.|^runtime\.nanotime"),
    ("syscalls (user side)", r"^syscall\.|^internal/runtime/syscall|^internal/poll\.|^runtime\.(write|read|epoll|rtsig)|^os\.|^net\.\("),
    ("maps and hashing", r"^internal/runtime/maps|aeshash|runtime\.map|memhash|strhash"),
    ("net/http and textproto", r"^net/http|^net/textproto|^net/url|^bufio|^mime|httpguts|^vendor/"),
    ("JSON (go-json-experiment, encoding/json)", r"go-json-experiment|^encoding/json"),
    ("context", r"^context\."),
    ("Switchboard", r"switchboard-mcp/switchboard"),
]

def main():
    calls = int(sys.argv[1])
    totals = {}
    grand = 0
    other = {}
    for f in sys.argv[2:]:
        out = subprocess.run(["callgrind_annotate", "--threshold=100", f], capture_output=True, text=True).stdout
        for line in out.splitlines():
            m = re.match(r"\s*([\d,]+)\s+\([\s\d.]+%\)\s+(\S+):(\S+)", line)
            if not m:
                continue
            n = int(m.group(1).replace(",", ""))
            fn = m.group(3)
            fn = re.sub(r"'\d+$", "", fn)
            fn = fn.split(" [")[0]
            for name, rx in AREAS:
                if re.search(rx, fn):
                    totals[name] = totals.get(name, 0) + n
                    break
            else:
                other[fn] = other.get(fn, 0) + n
                totals["other"] = totals.get("other", 0) + n
            grand += n
    print(f"{'area':50} {'instr/call':>12} {'share':>7}")
    for name, _ in AREAS + [("other", "")]:
        n = totals.get(name, 0)
        print(f"{name:50} {n // calls:12,} {100 * n / max(grand, 1):6.1f}%")
    print(f"{'total':50} {grand // calls:12,}")
    if "-v" in sys.argv[0:1]:
        pass
    top = sorted(other.items(), key=lambda kv: -kv[1])[:15]
    print("largest in other:", ", ".join(f"{k} {v // calls:,}" for k, v in top))

main()
