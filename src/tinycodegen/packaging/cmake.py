"""``--format cmake``: a static library target named after the model, for add_subdirectory().

    add_subdirectory(path/to/NAME)            # from a C or C++ project
    target_link_libraries(app PRIVATE NAME)   # brings the include directory with it

Cross-compiling: ``cmake -DCMAKE_TOOLCHAIN_FILE=path/to/NAME/cmake/arm-none-eabi.cmake``
(Cortex-M4F by default; ``-DTCG_ARM_FLAGS=...`` for another core).
"""

from __future__ import annotations

from tinycodegen.errors import InvalidNameError
from tinycodegen.packaging import PACKAGE_VERSION, SRC, PackageInfo

CMAKE_MIN = "3.13"
# target names CMake reserves (policy CMP0037) or that its generators create
RESERVED = frozenset("all clean help install package package_source test edit_cache "
                     "rebuild_cache list_install_components ALL_BUILD ZERO_CHECK RUN_TESTS "
                     "INSTALL PACKAGE NIGHTLY EXPERIMENTAL CONTINUOUS".split())

TOOLCHAIN = """\
# arm-none-eabi toolchain file (written by tinycodegen): bare-metal Cortex-M with GNU Arm GCC.
#   cmake -S . -B build -DCMAKE_TOOLCHAIN_FILE=<this file> [-DTCG_ARM_FLAGS="-mcpu=..."]
# Default core: Cortex-M4F (hard float). Cortex-M0+: -mcpu=cortex-m0plus -mthumb
# Executables also need start-up code and a linker script of your board (and a C library
# spec such as -specs=picolibc.specs or -specs=nano.specs in CMAKE_EXE_LINKER_FLAGS).
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(TCG_ARM_PREFIX "arm-none-eabi-" CACHE STRING "GNU Arm toolchain prefix")
set(TCG_ARM_FLAGS "-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16"
    CACHE STRING "CPU flags for every compile and link")
set(CMAKE_C_COMPILER "${TCG_ARM_PREFIX}gcc")
set(CMAKE_CXX_COMPILER "${TCG_ARM_PREFIX}g++")
set(CMAKE_ASM_COMPILER "${TCG_ARM_PREFIX}gcc")
set(CMAKE_AR "${TCG_ARM_PREFIX}ar" CACHE FILEPATH "archiver")
set(CMAKE_RANLIB "${TCG_ARM_PREFIX}ranlib" CACHE FILEPATH "ranlib")
set(CMAKE_OBJCOPY "${TCG_ARM_PREFIX}objcopy" CACHE FILEPATH "objcopy")
set(CMAKE_SIZE "${TCG_ARM_PREFIX}size" CACHE FILEPATH "size")
set(CMAKE_C_FLAGS_INIT "${TCG_ARM_FLAGS}")
set(CMAKE_CXX_FLAGS_INIT "${TCG_ARM_FLAGS}")
set(CMAKE_ASM_FLAGS_INIT "${TCG_ARM_FLAGS}")
set(CMAKE_EXE_LINKER_FLAGS_INIT "${TCG_ARM_FLAGS}")
# no host executables can run: configure checks build static libraries only
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
"""


def cmake_list(paths: list[str]) -> str:
    """File names for a CMake argument list (names are [A-Za-z0-9_.]/ only: quoted anyway)."""
    return "\n".join(f'    "${{CMAKE_CURRENT_SOURCE_DIR}}/{p}"' for p in paths)


def library_cmake(info: PackageInfo) -> str:
    name = info.name
    if name in RESERVED:
        raise InvalidNameError(f"invalid model name {name!r} for --format cmake: CMake reserves "
                               "this target name")
    sources = cmake_list([f"{SRC}/{c}" for c in info.c_sources])
    return f"""\
# {name}: a tinycodegen model as a static library (generated; regenerate, do not edit).
#   add_subdirectory(<this folder>) then target_link_libraries(<your target> PRIVATE {name})
# C99 sources; the header works from C and C++. Build with IEEE semantics (no -ffast-math).
cmake_minimum_required(VERSION {CMAKE_MIN})
project({name} VERSION {PACKAGE_VERSION} LANGUAGES C)

add_library({name} STATIC
{sources}
)
target_include_directories({name} PUBLIC "${{CMAKE_CURRENT_SOURCE_DIR}}/{SRC}")
set_target_properties({name} PROPERTIES C_STANDARD 99 C_STANDARD_REQUIRED ON C_EXTENSIONS OFF)
if(CMAKE_C_COMPILER_ID MATCHES "GNU|Clang")
  # the exact arithmetic and the NaN checks need IEEE semantics, whatever the project sets
  target_compile_options({name} PRIVATE -fno-fast-math)
endif()
if(NOT MSVC)
  target_link_libraries({name} PUBLIC -lm)
endif()
"""


def files(info: PackageInfo) -> dict[str, str]:
    out = info.model_files()
    out["CMakeLists.txt"] = library_cmake(info)
    out["cmake/arm-none-eabi.cmake"] = TOOLCHAIN
    return out
