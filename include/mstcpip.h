/*
 * mstcpip.h for mingw-w64 C programs: a correct INET_PORT_RESERVATION_INSTANCE
 *
 * mingw-w64 10's mstcpip.h declares the two members of
 * INET_PORT_RESERVATION_INSTANCE anonymously in C (behaviour §1), so the struct
 * is empty and .Reservation / .Token do not compile without
 * -fms-extensions.  With -I<portres>/include this header is found first:
 * it includes mingw-w64's own under another name for the broken type and
 * declares the type as Microsoft's mstcpip.h does: 16 bytes, Token at
 * offset 8.  C++ already gets the right layout and is left alone.
 */

#ifndef PORTRES_MSTCPIP_H
#define PORTRES_MSTCPIP_H

#ifdef __cplusplus
#include_next <mstcpip.h>
#else

#define INET_PORT_RESERVATION_INSTANCE  portres_mingw_INET_PORT_RESERVATION_INSTANCE
#define PINET_PORT_RESERVATION_INSTANCE portres_mingw_PINET_PORT_RESERVATION_INSTANCE
#include_next <mstcpip.h>
#undef INET_PORT_RESERVATION_INSTANCE
#undef PINET_PORT_RESERVATION_INSTANCE

typedef struct
{
    INET_PORT_RESERVATION Reservation;     /* StartPort in network byte order */
    INET_PORT_RESERVATION_TOKEN Token;
} INET_PORT_RESERVATION_INSTANCE, *PINET_PORT_RESERVATION_INSTANCE;

typedef char portres_check_INET_PORT_RESERVATION_INSTANCE[sizeof(INET_PORT_RESERVATION_INSTANCE) == 16 ? 1 : -1];

#endif /* __cplusplus */
#endif /* PORTRES_MSTCPIP_H */
