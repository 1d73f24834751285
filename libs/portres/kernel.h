/*
 * The kernel view (kernel.c): the Linux kernel's ephemeral port range and
 * reserved ports, and the ports its sockets hold, as Wine's processes
 * can read them.  Ports in host byte order.
 */

#ifndef PORTRES_KERNEL_H
#define PORTRES_KERNEL_H

#include <windows.h>

#include "pool.h"

void portres_kernel_ephemeral_range( uint32_t *first, uint32_t *last );
const uint8_t *portres_kernel_reserved_ports( void );
void portres_kernel_refresh( void );
BOOL portres_tcp_ports_in_use( USHORT start, USHORT count );
BOOL portres_proc_ports_in_use( enum portres_proto proto, USHORT start, USHORT count, BOOL *read );

#endif /* PORTRES_KERNEL_H */
