/*
 * portres iphlpapi.dll: private declarations
 */

#ifndef PORTRES_IPHLPAPI_PRIVATE_H
#define PORTRES_IPHLPAPI_PRIVATE_H

#include <winsock2.h>
#include <ws2tcpip.h>
#include <iphlpapi.h>

/* Wine's builtin iphlpapi.dll, for the port tables */
extern DWORD (WINAPI *pGetExtendedTcpTable)( void *, DWORD *, BOOL, ULONG, TCP_TABLE_CLASS, ULONG );
extern DWORD (WINAPI *pGetExtendedUdpTable)( void *, DWORD *, BOOL, ULONG, UDP_TABLE_CLASS, ULONG );

#endif
