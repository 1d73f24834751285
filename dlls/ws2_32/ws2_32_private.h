/*
 * portres ws2_32.dll: private declarations
 */

#ifndef PORTRES_WS2_32_PRIVATE_H
#define PORTRES_WS2_32_PRIVATE_H

#include <winsock2.h>
#include <ws2tcpip.h>
#include <mswsock.h>

#include "shared.h"
#include "lock.h"
#include "wine.h"

#ifndef SIO_ACQUIRE_PORT_RESERVATION
#define SIO_ACQUIRE_PORT_RESERVATION   _WSAIOW(IOC_VENDOR, 100)
#define SIO_RELEASE_PORT_RESERVATION   _WSAIOW(IOC_VENDOR, 101)
#define SIO_ASSOCIATE_PORT_RESERVATION _WSAIOW(IOC_VENDOR, 102)
#endif

/* the functions of Wine's builtin ws2_32.dll that portres calls or wraps */
struct ws2_32_builtin
{
    SOCKET (WINAPI *accept)( SOCKET, struct sockaddr *, int * );
    int (WINAPI *bind)( SOCKET, const struct sockaddr *, int );
    int (WINAPI *closesocket)( SOCKET );
    int (WINAPI *connect)( SOCKET, const struct sockaddr *, int );
    int (WINAPI *getsockname)( SOCKET, struct sockaddr *, int * );
    int (WINAPI *getsockopt)( SOCKET, int, int, char *, int * );
    int (WINAPI *sendto)( SOCKET, const char *, int, int, const struct sockaddr *, int );
    int (WINAPI *setsockopt)( SOCKET, int, int, const char *, int );
    SOCKET (WINAPI *socket)( int, int, int );
    SOCKET (WINAPI *WSASocketA)( int, int, int, WSAPROTOCOL_INFOA *, GROUP, DWORD );
    SOCKET (WINAPI *WSASocketW)( int, int, int, WSAPROTOCOL_INFOW *, GROUP, DWORD );
    SOCKET (WINAPI *WSAAccept)( SOCKET, struct sockaddr *, int *, LPCONDITIONPROC, DWORD_PTR );
    int (WINAPI *WSAConnect)( SOCKET, const struct sockaddr *, int, WSABUF *, WSABUF *, QOS *, QOS * );
    BOOL (WINAPI *WSAConnectByNameA)( SOCKET, const char *, const char *, DWORD *, struct sockaddr *, DWORD *,
                                      struct sockaddr *, const struct timeval *, WSAOVERLAPPED * );
    BOOL (WINAPI *WSAConnectByNameW)( SOCKET, const WCHAR *, const WCHAR *, DWORD *, struct sockaddr *, DWORD *,
                                      struct sockaddr *, const struct timeval *, WSAOVERLAPPED * );
    int (WINAPI *WSAGetLastError)( void );
    int (WINAPI *WSAIoctl)( SOCKET, DWORD, void *, DWORD, void *, DWORD, DWORD *, OVERLAPPED *,
                            LPWSAOVERLAPPED_COMPLETION_ROUTINE );
    int (WINAPI *WSASendMsg)( SOCKET, WSAMSG *, DWORD, DWORD *, OVERLAPPED *, LPWSAOVERLAPPED_COMPLETION_ROUTINE );
    int (WINAPI *WSASendTo)( SOCKET, WSABUF *, DWORD, DWORD *, DWORD, const struct sockaddr *, int,
                             OVERLAPPED *, LPWSAOVERLAPPED_COMPLETION_ROUTINE );
};
extern struct ws2_32_builtin builtin;

/* The layers, called one way only, top first:
 *   socket.c       the hooks (WINAPI entry points), thin
 *   bind.c         the bind policy: explicit, port-0 and implicit binds
 *   reservation.c  the three ioctls, the acquired tokens; association.c
 *   sockwatch.c    the watch on a socket's last handle (calls back through
 *                  the function given to watch_socket)
 *   sockinfo.c     what this process knows of its sockets
 * Below socket.c every function returns 0 or a Winsock error code. */

/* sockinfo.c */
int socket_protocol( SOCKET s, enum portres_proto *proto, int *family );
BOOL socket_is_bound( SOCKET s );
BOOL socket_known_bound( SOCKET s );
void socket_bound( SOCKET s );
void uncache_socket( SOCKET s );
void note_socket( SOCKET s, int family, int type, int protocol );
void note_accepted_socket( SOCKET listener, SOCKET s );

/* association.c */
struct association
{
    SOCKET s;
    UINT64 token;
    enum portres_proto proto;
    int family;
};
BOOL associate_socket( SOCKET s, UINT64 token, enum portres_proto proto, int family );
void forget_socket( SOCKET s );
BOOL get_association( SOCKET s, struct association *ret );

/* bind.c: the protocols an implicit-bind path binds for, and whether
 * portres may bind a socket that is not associated (ConnectEx: no, it
 * needs a bound socket on Windows) */
#define IMPLICIT_TCP             0x1
#define IMPLICIT_UDP             0x2
#define IMPLICIT_ASSOCIATED_ONLY 0x4
int bind_explicit( SOCKET s, const struct sockaddr *addr, int len );
int bind_implicit( SOCKET s, unsigned int flags );

/* reservation.c */
int port_reservation_ioctl( SOCKET s, DWORD code, void *in, DWORD in_size, void *out, DWORD out_size,
                            DWORD *ret_size, OVERLAPPED *overlapped,
                            LPWSAOVERLAPPED_COMPLETION_ROUTINE completion );
BOOL reservation_block( UINT64 token, USHORT *start, USHORT *count );
HANDLE release_socket_reservations( SOCKET s );
void socket_created( SOCKET s );

/* sockwatch.c */
typedef void (*sockwatch_gone_fn)( UINT64 watch, SOCKET s );
UINT64 watch_socket( SOCKET s, sockwatch_gone_fn gone );
int watch_alive( UINT64 id );
BOOL socket_closing( SOCKET s, HANDLE *closed );
void unwatch_handle( SOCKET s );

#endif
