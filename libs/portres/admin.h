/*
 * The administrator check (admin.c)
 */

#ifndef PORTRES_ADMIN_H
#define PORTRES_ADMIN_H

#include <windows.h>

BOOL portres_is_admin( void );

#endif /* PORTRES_ADMIN_H */
