"""Coverage-guided fuzzing of the Python targets with atheris (libFuzzer for CPython):
`python atheris_main.py TARGET [libFuzzer args] [CORPUS_DIR...]`, TARGET one of
targets.TARGETS. The wgpy modules are instrumented for coverage; the seeds of the target are
written into the first corpus directory when it is empty. A broken invariant
(AssertionError) or any exception is a crash: atheris writes the input to crash-<sha1>."""

import os
import sys

import atheris

TARGET = sys.argv.pop(1)

with atheris.instrument_imports(include=["wgpy"]):
    import targets  # noqa: E402  (wgpy imported under instrumentation)

func, seeds = targets.TARGETS[TARGET]
corpus = [a for a in sys.argv[1:] if not a.startswith("-")]
if corpus and os.path.isdir(corpus[0]) and not os.listdir(corpus[0]):
    for i, seed in enumerate(seeds()):
        with open(os.path.join(corpus[0], f"seed-{i}"), "wb") as f:
            f.write(seed)

atheris.Setup(sys.argv, func)
atheris.Fuzz()
