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
    int (WINAPI *recv)( SOCKET, char *, int, int );
    int (WINAPI *send)( SOCKET, const char *, int, int );
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
    int (WINAPI *WSACleanup)( void );
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
 *   reservation.c  the three ioctls, over the reservation core (libs/portres/reserve.c)
 *   sockstate.c    the socket record: what this process knows of each socket
 *   sockwatch.c    the watch on a socket's last handle (calls back through
 *                  the function given to watch_start)
 * Below socket.c every function returns 0 or a Winsock error code. */

/* sockstate.c */
struct sock_info
{
    enum portres_proto proto;
    int family;
    BOOL bound;          /* known to be bound (never "known unbound") */
    UINT64 association;  /* the token its binds take their port from, 0 if none */
};
void sock_made( SOCKET s, int family, int type, int protocol, SOCKET listener );
int sock_lookup( SOCKET s, struct sock_info *info );
BOOL sock_peek( SOCKET s, struct sock_info *info );
void sock_bound( SOCKET s );
BOOL sock_is_bound( SOCKET s );
int sock_prepare_acquire( SOCKET s, UINT64 *watch );
BOOL sock_acquired( SOCKET s, UINT64 token );
void sock_released( UINT64 token );
int sock_associate( SOCKET s, UINT64 token );
int sock_watch_alive( UINT64 id );
HANDLE sock_closing( SOCKET s );

/* sockwatch.c: one socket's last-handle watch, kept in its record */
struct sock_watch
{
    UINT64 id;             /* names its event, with the process id; never 0 once set up */
    HANDLE event;          /* signalled when the poll completes; NULL: not watched */
    IO_STATUS_BLOCK iosb;
    struct afd_poll out;
};
typedef void (*sockwatch_fired_fn)( struct sock_watch *w );
BOOL watch_start( struct sock_watch *w, SOCKET s, sockwatch_fired_fn on_fired );
BOOL watch_done( const struct sock_watch *w );
BOOL watch_closed( const struct sock_watch *w );
void watch_wait( HANDLE closed );

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
void reservations_cleanup( void );

#endif
