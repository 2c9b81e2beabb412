/* chronos/http.h is valid C11: this file is compiled as C11 with -Wall -Wextra -Wpedantic
 * -Werror and calls every function of the header. chronos_http_c_check answers 0 when each call
 * gave what RFC 9112 says it must, else the number of the first check that failed. */
#include <string.h>

#include "chronos/http.h"

int chronos_http_c_check(void);

int chronos_http_c_check(void) {
  static const char req[] =
      "POST /up HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\n\r\n"
      "3\r\nabc\r\n0\r\nX-Sum: 1\r\n\r\n";
  static const char resp[] = "HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nno";
  chronos_http_parser parser;
  chronos_http_message message;
  chronos_http_field fields[8];
  chronos_http_body body;
  chronos_http_field field;
  const char* value;
  const char* cursor;
  size_t value_len = 0, pos;
  char line[CHRONOS_HTTP_CHUNK_HEADER_MAX];

  chronos_http_parser_init(&parser, 0);
  chronos_http_parser_set_limits(&parser, 4096, 50);
  chronos_http_message_init(&message, fields, sizeof fields / sizeof fields[0]);
  if (chronos_http_parse_request(&parser, req, sizeof req - 1, &message) != CHRONOS_HTTP_DONE)
    return 1;
  if (message.framing != CHRONOS_HTTP_BODY_CHUNKED || message.field_count != 2) return 2;
  value = chronos_http_find_field(&message, "host", &value_len);
  if (value == NULL || value_len != 11 || memcmp(value, "example.com", 11) != 0) return 3;
  if (!chronos_http_parser_in_body(&parser)) return 4;
  pos = message.head_length;
  if (chronos_http_parse_body(&parser, req + pos, sizeof req - 1 - pos, &body) != CHRONOS_HTTP_DATA)
    return 5;
  if (body.len != 3 || memcmp(body.data, "abc", 3) != 0) return 6;
  pos += body.consumed;
  if (chronos_http_parse_body(&parser, req + pos, sizeof req - 1 - pos, &body) != CHRONOS_HTTP_DONE)
    return 7;
  pos += body.consumed;
  if (pos != sizeof req - 1) return 8;
  cursor = body.trailers;
  if (!chronos_http_next_field(&cursor, body.trailers + body.trailers_len, &field)) return 9;
  if (field.name_len != 5 || field.value_len != 1 || field.value[0] != '1') return 10;
  if (chronos_http_next_field(&cursor, body.trailers + body.trailers_len, &field)) return 11;
  if (chronos_http_parser_finish(&parser) != CHRONOS_HTTP_DONE) return 12;

  chronos_http_parser_init(&parser, CHRONOS_HTTP_LENIENT_LF);
  chronos_http_message_init(&message, NULL, 0);
  if (chronos_http_parse_response(&parser, resp, sizeof resp - 1, "GET", 3, &message) !=
      CHRONOS_HTTP_DONE)
    return 13;
  if (message.status != 404 || message.framing != CHRONOS_HTTP_BODY_LENGTH) return 14;
  if (chronos_http_parser_finish(&parser) != CHRONOS_HTTP_ERROR) return 15; /* body cut short */

  if (chronos_http_chunk_header(line, 0x1a2b) != 6 || memcmp(line, "1a2b\r\n", 6) != 0) return 16;
  if (strcmp(chronos_http_reason(404), "Not Found") != 0) return 17;
  if (strcmp(chronos_http_reason(799), "") != 0) return 18;
  return 0;
}
