
/*
 * Copyright (C) nginx-webrtc-module authors
 */


#ifndef _NGX_WEBRTC_JSON_H_INCLUDED_
#define _NGX_WEBRTC_JSON_H_INCLUDED_


/*
 * Pure JSON reader and writer for the small subset the signaling messages
 * use: one object, its string members unescaped in place.  libc only.
 */


#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>


#define NGX_WEBRTC_JSON_MAX_FIELDS  16

/* the values of nginx's NGX_OK and NGX_ERROR */
#define NGX_WEBRTC_JSON_OK           0
#define NGX_WEBRTC_JSON_ERROR       -1


typedef struct {
    size_t                      len;
    u_char                     *data;
} ngx_webrtc_json_str_t;


typedef struct {
    ngx_webrtc_json_str_t       name;
    ngx_webrtc_json_str_t       value;          /* unescaped, strings only */
    unsigned                    string:1;
} ngx_webrtc_json_field_t;


typedef struct {
    unsigned                    nfields;
    ngx_webrtc_json_field_t     fields[NGX_WEBRTC_JSON_MAX_FIELDS];
} ngx_webrtc_json_t;


int ngx_webrtc_json_parse(ngx_webrtc_json_t *json, u_char *p, size_t len);
ngx_webrtc_json_str_t *ngx_webrtc_json_get(ngx_webrtc_json_t *json,
    const char *name);
size_t ngx_webrtc_json_escape(u_char *dst, const u_char *src, size_t len);


#endif /* _NGX_WEBRTC_JSON_H_INCLUDED_ */
