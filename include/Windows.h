/*
 * Windows.h: the spelling Microsoft's samples use, for case-sensitive
 * file systems: mingw-w64 ships windows.h in lower case only.
 *
 * The build copies this file to "Windows.h." (sic), the name Microsoft's
 * port reservation samples include (learn.microsoft.com
 * CreatePersistentTcpPortReservation, SIO_ACQUIRE_PORT_RESERVATION, ...).
 * Windows drops the trailing dot, Linux does not; Git for Windows cannot
 * check out such a name, so it is not in the repository.
 */
#include <windows.h>
