#pragma once
/*
 * PNG and JPEG coding through libpng and libjpeg(-turbo).
 *
 * Both libraries report errors by longjmp, which Swift cannot catch, so every
 * setjmp lives in these C functions. They read from and write to plain memory
 * buffers, and return a status plus a one-line message in the caller's buffer.
 * Output buffers are malloc'd; release them with the matching *_free function.
 */
#include <stddef.h>
#include <stdint.h>

typedef enum {
    PV_CODEC_OK = 0,
    PV_CODEC_ERROR = 1,         /* the message says what the library reported */
    PV_CODEC_TRUNCATED = 2,     /* the data ended early */
    PV_CODEC_TOO_LARGE = 3,     /* width x height (filled in) exceeds max_pixels, or is zero */
    PV_CODEC_OUT_OF_MEMORY = 4,
} pv_codec_status;

/* A decoded image: 8-bit, interleaved, top row first. */
typedef struct {
    uint32_t width;
    uint32_t height;
    uint32_t channels;      /* 3 (RGB) or 4 (RGBA) */
    uint8_t *pixels;        /* width * height * channels bytes */
    uint8_t *exif;          /* JPEG only: the TIFF data of an APP1 "Exif" segment, or NULL */
    size_t exif_size;
} pv_decoded_image;

void pv_decoded_image_free(pv_decoded_image *image);

/* A growable byte buffer (encoder output). */
typedef struct {
    uint8_t *bytes;
    size_t size;
    size_t capacity;
} pv_buffer;

void pv_buffer_free(pv_buffer *buffer);

/* One PNG text chunk. `utf8` is 1 for iTXt (UTF-8 text), 0 for tEXt/zTXt (Latin-1). */
typedef struct {
    char *key;
    char *value;
    int utf8;
} pv_text_entry;

typedef struct {
    pv_text_entry *entries;
    size_t count;
} pv_text_list;

void pv_text_list_free(pv_text_list *list);

/* Text to write: key and value are NUL-terminated; utf8 = 1 writes iTXt, 0 writes tEXt. */
typedef struct {
    const char *key;
    const char *value;
    int utf8;
} pv_text_input;

/*
 * Decodes any PNG (1-16 bit; gray, gray+alpha, palette with or without tRNS, RGB,
 * RGBA; interlaced or not) to 8-bit RGB, or RGBA when the file carries alpha.
 * The size check happens on the IHDR dimensions, before any pixel memory exists.
 */
int pv_png_decode(const uint8_t *data, size_t size, uint64_t max_pixels,
                  pv_decoded_image *out, char *error, size_t error_size);

/* Reads every tEXt, zTXt and iTXt chunk (before and after the image data). */
int pv_png_read_text(const uint8_t *data, size_t size, uint64_t max_pixels,
                     pv_text_list *out, char *error, size_t error_size);

/* Encodes 8-bit RGB (channels 3) or RGBA (channels 4) with text chunks before IDAT. */
int pv_png_encode(const uint8_t *pixels, uint32_t width, uint32_t height, uint32_t channels,
                  const pv_text_input *text, size_t text_count,
                  pv_buffer *out, char *error, size_t error_size);

/*
 * Decodes a baseline or progressive JPEG (gray, YCbCr, RGB, CMYK/YCCK) to 8-bit RGB.
 * The EXIF payload, if any, is returned for the caller to read the orientation;
 * it is not applied here. A file that ends early is reported as truncated.
 */
int pv_jpeg_decode(const uint8_t *data, size_t size, uint64_t max_pixels,
                   pv_decoded_image *out, char *error, size_t error_size);
