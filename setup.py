# cffi's setuptools hook: builds wgpy._wgcore from src/core (out-of-line API mode).
from setuptools import setup

setup(cffi_modules=["src/wgpy/_core_build.py:ffibuilder"])
