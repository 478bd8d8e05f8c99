#!/usr/bin/env python3
"""pick_corpus.py TARGET FOUND_DIR [N] - picks at most N (default 40) inputs
of a long fuzz run worth keeping in fuzz/corpus/TARGET.

A 30-minute run leaves hundreds of inputs; libFuzzer's -merge keeps every
one that adds a feature, still hundreds. This keeps a few dozen: with the
coverage build of fuzz/coverage.sh (build-fuzz-cov/, run it first), it
measures the source lines each input of FOUND_DIR covers beyond the
corpus already kept, then takes greedily the input that adds the most
lines not yet covered, until N are taken or none adds anything. The
chosen files are copied into fuzz/corpus/TARGET under their libFuzzer
names (a hash of the content). Prints what the seeds cover, what the
candidates add, and what the chosen ones add.

  build-fuzz/fuzz/fuzz_cart -merge=1 -use_counters=0 /tmp/m \\
      fuzz/corpus/fuzz_cart RUN_CORPUS
  fuzz/pick_corpus.py fuzz_cart /tmp/m
"""
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def covered_lines(binary, inputs, scratch):
    """The (file, line) pairs of src/ that running inputs covers."""
    raw = os.path.join(scratch, "run.profraw")
    data = os.path.join(scratch, "run.profdata")
    if os.path.exists(raw):
        os.unlink(raw)
    subprocess.run([binary, "-runs=0"] + inputs, capture_output=True,
                   env=dict(os.environ, LLVM_PROFILE_FILE=raw), check=False)
    subprocess.run(["llvm-profdata", "merge", "-sparse", raw, "-o", data],
                   check=True)
    report = subprocess.run(["llvm-cov", "export", "-format=lcov", binary,
                             "-instr-profile=" + data],
                            capture_output=True, text=True, check=True)
    lines = set()
    source = None
    for text in report.stdout.splitlines():
        if text.startswith("SF:"):
            source = text[3:] if "/src/" in text else None
        elif source is not None and text.startswith("DA:"):
            number, count = text[3:].split(",")[:2]
            if int(count) > 0:
                lines.add((source, int(number)))
    return lines


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    target, found = sys.argv[1], sys.argv[2]
    limit = int(sys.argv[3]) if len(sys.argv) > 3 else 40
    binary = os.path.join(ROOT, "build-fuzz-cov", "fuzz", target)
    kept_dir = os.path.join(ROOT, "fuzz", "corpus", target)
    kept = sorted(os.listdir(kept_dir))
    kept_paths = [os.path.join(kept_dir, name) for name in kept]
    scratch = tempfile.mkdtemp(prefix="ep-pick-")
    base = covered_lines(binary, kept_paths, scratch)
    adds = {}
    for name in sorted(os.listdir(found)):
        if name not in kept:
            adds[name] = covered_lines(
                binary, kept_paths + [os.path.join(found, name)],
                scratch) - base
    chosen, covered = [], set()
    while len(chosen) < limit and adds:
        best = max(adds, key=lambda n: (len(adds[n] - covered),
                                        -os.path.getsize(
                                            os.path.join(found, n))))
        if not adds[best] - covered:
            break
        chosen.append(best)
        covered |= adds[best]
    for name in chosen:
        shutil.copy(os.path.join(found, name), os.path.join(kept_dir, name))
    everything = set().union(*adds.values()) if adds else set()
    print("%s: kept corpus covers %d lines; %d candidates add %d; chose %d "
          "adding %d" % (target, len(base), len(adds), len(everything),
                         len(chosen), len(covered)))
    shutil.rmtree(scratch)


if __name__ == "__main__":
    main()
