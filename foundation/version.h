// The version of tamegrad: the one place it is written (CMakeLists.txt reads it from here
// for project(), the package's version file and the shared library's SONAME).
#pragma once

#define TAMEGRAD_VERSION "0.1.0"
#define TAMEGRAD_VERSION_MAJOR 0
#define TAMEGRAD_VERSION_MINOR 1
#define TAMEGRAD_VERSION_PATCH 0
