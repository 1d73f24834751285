/*
 * Windows.h: the spelling Microsoft's samples use, for case-sensitive
 * file systems: mingw-w64 ships windows.h in lower case only.
 */
#include <windows.h>
