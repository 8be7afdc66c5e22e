"""What strings from a model or a user may become in generated C.

A string from outside (step names, estimator descriptions, feature and column names, class labels,
category values, ``--name``) reaches C only in one of three forms:

- an escaped string literal (:func:`tinycodegen.core.csource.c_string`);
- a C identifier: a model name checked by :func:`validate_c_name`, or an identifier *derived*
  from a column name by :func:`column_identifiers` (letters, digits and single underscores,
  collisions resolved; the original name stays in the header as a string literal);
- comment text passed through :func:`comment_text`, whose alphabet cannot end a comment, start a
  preprocessor line, continue a line or form a trigraph.
"""

from __future__ import annotations

import re

from tinycodegen.errors import InvalidNameError

C_KEYWORDS = frozenset(
    "auto break case char const continue default do double else enum extern float for goto if "
    "inline int long register restrict return short signed sizeof static struct switch typedef "
    "union unsigned void volatile while _Bool _Complex _Imaginary _Alignas _Alignof _Atomic "
    "_Generic _Noreturn _Static_assert _Thread_local bool true false asm".split()
)
# NAME.h must not shadow a header a firmware build includes with -I outdir (compared in lower
# case: case-insensitive file systems). C99/C11/C23, C++ (through C++23), POSIX and common
# embedded SDK basenames.
STANDARD_HEADERS = frozenset(
    # C
    "assert complex ctype errno fenv float inttypes iso646 limits locale math setjmp signal "
    "stdalign stdarg stdatomic stdbit stdbool stdckdint stddef stdint stdio stdlib stdnoreturn "
    "string tgmath threads time uchar wchar wctype "
    # C++
    "algorithm any array atomic barrier bit bitset cassert ccomplex cctype cerrno cfenv cfloat "
    "charconv chrono cinttypes ciso646 climits clocale cmath codecvt compare concepts "
    "condition_variable coroutine csetjmp csignal cstdalign cstdarg cstdbool cstddef cstdint "
    "cstdio cstdlib cstring ctgmath ctime cuchar cwchar cwctype debugging deque exception "
    "execution expected filesystem flat_map flat_set format forward_list fstream functional "
    "future generator hazard_pointer initializer_list inplace_vector iomanip ios iosfwd iostream "
    "istream iterator latch linalg list map mdspan memory memory_resource mutex new numbers "
    "numeric optional ostream print queue random ranges ratio rcu regex scoped_allocator "
    "semaphore set shared_mutex simd source_location span spanstream sstream stack stacktrace "
    "stdexcept stdfloat stop_token streambuf string_view strstream syncstream system_error "
    "text_encoding thread tuple type_traits typeindex typeinfo unordered_map unordered_set "
    "utility valarray variant vector version "
    # POSIX, compilers, libcs
    "alloca byteswap dirent dlfcn endian fcntl features getopt glob malloc poll pthread sched "
    "strings syslog termios unistd sys linux windows intrin immintrin emmintrin xmmintrin "
    "x86intrin cpuid omp python "
    # embedded SDKs and toolchains
    "arduino avr util compat wiring wire spi eeprom pgmspace hardwareserial freertos task "
    "cmsis_compiler cmsis_gcc core_cm0plus core_cm4 core_cm7 arm_math arm_acle arm_neon arm_fp16 "
    "mbed picolibc newlib reent".split()
)
# tcg_*.h (this project's runtime) and eml_*.h (emlearn's, shipped beside emlearn models) live in
# the output folder too; NAME_m<i> are the members of a Voting/Stacking model named NAME.
_RESERVED_PREFIXES = ("tcg_", "eml_")
_MEMBER = re.compile(r".*_m[0-9]+\Z")
_MODEL_NAME = re.compile(r"[a-z][a-z0-9_]*\Z")
MAX_NAME = 48
NAME_RULE = ("model names are lower-case C identifiers: a-z, 0-9 and _, starting with a letter, "
             f"at most {MAX_NAME} characters")


def validate_c_name(name: str) -> str:
    """Return ``name`` if it can prefix every C symbol and file of a model, else raise one error.

    Lower case only, so ``NAME.upper()`` (include guard and macro prefix) is unique per name and
    no two names differ only in case (case-insensitive file systems)."""
    if not isinstance(name, str) or not _MODEL_NAME.match(name):
        raise InvalidNameError(f"invalid model name {name!r}: {NAME_RULE}")
    if len(name) > MAX_NAME:
        raise InvalidNameError(f"invalid model name {name!r}: longer than {MAX_NAME} characters")
    if "__" in name:
        raise InvalidNameError(f"invalid model name {name!r}: '__' is reserved (C++)")
    if name in C_KEYWORDS:
        raise InvalidNameError(f"invalid model name {name!r}: it is a C keyword")
    if name in STANDARD_HEADERS:
        raise InvalidNameError(
            f"invalid model name {name!r}: {name}.h would shadow the standard or SDK header "
            f"<{name}.h> for code compiled with -I on the output folder"
        )
    if name.startswith(_RESERVED_PREFIXES):
        raise InvalidNameError(
            f"invalid model name {name!r}: the prefixes 'tcg_' and 'eml_' are reserved for "
            "runtime headers"
        )
    if _MEMBER.match(name):
        raise InvalidNameError(
            f"invalid model name {name!r}: the suffix '_m<number>' is reserved for the members "
            "of a Voting/Stacking model"
        )
    return name


_UNSAFE_COMMENT = re.compile(r"[^A-Za-z0-9 _.,:;()\[\]=+-]")
MAX_COMMENT = 240


def comment_text(text: object, limit: int = MAX_COMMENT) -> str:
    """``text`` reduced to an alphabet that is inert inside a C comment: ASCII letters, digits,
    space and ``_ . , : ; ( ) [ ] = + -``; anything else becomes ``_``. No ``*/``, ``#``, ``\\``,
    ``?`` (trigraphs), quotes or line breaks can survive. Long text is cut to ``limit``."""
    s = _UNSAFE_COMMENT.sub("_", str(text))
    return s if len(s) <= limit else s[: limit - 3] + "..."


_NON_IDENT = re.compile(r"[^A-Za-z0-9]+")
MAX_COLUMN_ID = 32


# What transform_decls derives from a column identifier C: macros NAME_<C>_<suffix> and the
# function name_<C>_code; two columns must not share any of them (in upper case).
COLUMN_SUFFIXES = ("INDEX", "N_CATEGORIES", "CATEGORIES", "UNSEEN_REJECTED", "COLUMN", "CODE")


def _derived(ident: str) -> set[str]:
    return {f"{ident.upper()}_{s}" for s in COLUMN_SUFFIXES}


def column_identifiers(names: tuple[str, ...] | None, indices: list[int]) -> dict[int, str]:
    """A distinct C identifier part per input column, for ``name_<id>_code`` and macros.

    From the column name: runs of anything but ASCII letters and digits become one ``_``, the
    ends are trimmed, at most MAX_COLUMN_ID characters; ``x<i>`` when nothing is left or no
    names were fitted; ``x_`` in front of a leading digit or of ``m<digits>`` (members' prefix).
    On a collision of any derived name (case-insensitive) the id gets ``_<i>`` (then
    ``_<i>_<k>``). The result never contains ``__`` (reserved in C++)."""
    out: dict[int, str] = {}
    taken: set[str] = set()
    for i in indices:
        base = _NON_IDENT.sub("_", names[i]).strip("_")[:MAX_COLUMN_ID].strip("_") if names else ""
        if not base:
            base = f"x{i}"
        elif base[0].isdigit() or re.match(r"[mM][0-9]+(_|\Z)", base):
            base = f"x_{base}"
        cand, k = base, 0
        while _derived(cand) & taken:
            k += 1
            cand = f"{base}_{i}" if k == 1 else f"{base}_{i}_{k}"
        taken |= _derived(cand)
        out[i] = cand
    return out
