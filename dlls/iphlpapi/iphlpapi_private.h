/*
 * portres iphlpapi.dll: private declarations
 */

#ifndef PORTRES_IPHLPAPI_PRIVATE_H
#define PORTRES_IPHLPAPI_PRIVATE_H

#include <winsock2.h>
#include <ws2tcpip.h>
#include <iphlpapi.h>

#endif
