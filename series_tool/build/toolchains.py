"""Which compiler builds which kernel architecture: the host's gcc, or a Debian cross gcc.

Debian ships cross compilers as `gcc-<triplet>` packages whose driver is `<triplet>-gcc`;
a missing one is named in the report so the user knows what to install.
"""

from __future__ import annotations

import platform
import shutil
from dataclasses import dataclass

#: kbuild ARCH -> the Debian cross triplet (`gcc-<triplet>` package, `<triplet>-gcc` driver;
#: the package spells `_` as `-`).
DEBIAN_TRIPLETS: dict[str, str] = {
    "x86": "x86_64-linux-gnu",
    "arm64": "aarch64-linux-gnu",
    "arm": "arm-linux-gnueabihf",
    "powerpc": "powerpc64le-linux-gnu",
    "riscv": "riscv64-linux-gnu",
    "s390": "s390x-linux-gnu",
    "mips": "mips-linux-gnu",
    "loongarch": "loongarch64-linux-gnu",
    "sparc": "sparc64-linux-gnu",
    "alpha": "alpha-linux-gnu",
    "m68k": "m68k-linux-gnu",
    "parisc": "hppa-linux-gnu",
    "sh": "sh4-linux-gnu",
}

#: `uname -m` -> kbuild ARCH, for the host.
_MACHINES = {
    "x86_64": "x86",
    "i686": "x86",
    "aarch64": "arm64",
    "armv7l": "arm",
    "ppc64le": "powerpc",
    "ppc64": "powerpc",
    "riscv64": "riscv",
    "s390x": "s390",
    "loongarch64": "loongarch",
}


@dataclass(frozen=True)
class Toolchain:
    """How to call the compiler for one kbuild ARCH (`cross_compile` empty on the host)."""

    arch: str
    cross_compile: str | None  # None: no compiler installed
    package: str | None  # the Debian package to install when it is missing

    @property
    def available(self) -> bool:
        return self.cross_compile is not None

    def make_vars(self) -> list[str]:
        """ARCH=... and CROSS_COMPILE=... for make."""
        out = [f"ARCH={self.arch}"]
        if self.cross_compile:
            out.append(f"CROSS_COMPILE={self.cross_compile}")
        return out


def host_arch() -> str:
    """The kbuild ARCH of this machine (x86 on x86_64)."""
    machine = platform.machine()
    return _MACHINES.get(machine, machine)


def toolchain(arch: str) -> Toolchain:
    """The compiler for `arch`: the host gcc, else `<triplet>-gcc` when installed."""
    if arch == host_arch() and shutil.which("gcc"):
        return Toolchain(arch, "", None)
    triplet = DEBIAN_TRIPLETS.get(arch)
    if triplet is None:
        return Toolchain(arch, None, None)
    package = "gcc-" + triplet.replace("_", "-")
    if shutil.which(f"{triplet}-gcc"):
        return Toolchain(arch, f"{triplet}-", package)
    return Toolchain(arch, None, package)
