// PNG through libpng. libpng reports errors by longjmp, so the setjmp of each entry
// point is here; all state that must survive a longjmp lives in a heap context
// (locals changed after setjmp would be indeterminate afterwards).
#include "CImageCodecs.h"
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const uint8_t *data;
    size_t size;
    size_t offset;
    int truncated;
    char *error;
    size_t error_size;
    png_bytep *rows;        // decode: row pointers into the output pixels
    png_bytep scratch_row;  // text: one row that the image data is read into and dropped
    png_textp text;         // encode: the text chunks being written
} pv_png_context;

static void set_error(char *error, size_t error_size, const char *message) {
    if (error && error_size > 0) snprintf(error, error_size, "%s", message);
}

static void pv_png_error(png_structp png, png_const_charp message) {
    pv_png_context *ctx = png_get_error_ptr(png);
    if (ctx && !ctx->truncated) set_error(ctx->error, ctx->error_size, message);
    png_longjmp(png, 1);
}

static void pv_png_warning(png_structp png, png_const_charp message) {
    (void)png;
    (void)message;  // libpng warns about recoverable oddities; stay quiet, the image is fine
}

static void pv_png_read(png_structp png, png_bytep out, size_t length) {
    pv_png_context *ctx = png_get_io_ptr(png);
    if (length > ctx->size - ctx->offset) {
        ctx->truncated = 1;
        set_error(ctx->error, ctx->error_size, "the file ends early");
        png_error(png, "the file ends early");
    }
    memcpy(out, ctx->data + ctx->offset, length);
    ctx->offset += length;
}

static void pv_png_release_context(pv_png_context *ctx) {
    free(ctx->rows);
    free(ctx->scratch_row);
    free(ctx->text);
    free(ctx);
}

static int exceeds(uint64_t width, uint64_t height, uint64_t max_pixels) {
    return width == 0 || height == 0 || width * height > max_pixels;
}

static uint32_t big_endian_32(const uint8_t *bytes) {
    return (uint32_t)bytes[0] << 24 | (uint32_t)bytes[1] << 16 | (uint32_t)bytes[2] << 8 | bytes[3];
}

// IHDR must be the first chunk: its dimensions are checked here, before libpng reads
// (and possibly rejects) anything else in the file.
static int pv_png_ihdr_too_large(const uint8_t *data, size_t size, uint64_t max_pixels,
                                 uint32_t *width, uint32_t *height) {
    if (size < 8 + 8 + 8 || memcmp(data + 12, "IHDR", 4) != 0) return 0;
    *width = big_endian_32(data + 16);
    *height = big_endian_32(data + 20);
    return exceeds(*width, *height, max_pixels);
}

// Every chunk up to IEND must fit in the file. libpng allocates a chunk's declared length
// before reading it, so a 200-byte file declaring a 512 MiB tEXt chunk would cost 512 MiB; the
// whole file is in memory here, so such a file is refused as truncated before libpng starts.
static int pv_png_chunks_fit(const uint8_t *data, size_t size, char *error, size_t error_size) {
    size_t offset = 8;
    while (size - offset >= 8) {
        uint32_t length = big_endian_32(data + offset);
        const uint8_t *type = data + offset + 4;
        int printable = 1;
        for (int i = 0; i < 4; i++) printable &= (type[i] >= 'A' && type[i] <= 'Z') || (type[i] >= 'a' && type[i] <= 'z');
        if (length > 0x7fffffffu || (uint64_t)length + 12 > (uint64_t)(size - offset)) {
            char message[160];
            if (printable) {
                snprintf(message, sizeof message, "chunk '%.4s' at byte %zu declares %u bytes, past the end of the file (%zu bytes)",
                         (const char *)type, offset, length, size);
            } else {
                snprintf(message, sizeof message, "chunk at byte %zu declares %u bytes, past the end of the file (%zu bytes)",
                         offset, length, size);
            }
            set_error(error, error_size, message);
            return 0;
        }
        if (memcmp(type, "IEND", 4) == 0) return 1;
        offset += (size_t)length + 12;
    }
    return 1;  // no IEND: libpng reports the missing end itself
}

// Common start of both readers: checks the signature, the IHDR size (reported through
// ihdr_width/ihdr_height even when too large) and that every chunk fits in the file, then creates
// the libpng structs (released with pv_png_end_read).
static int pv_png_begin_read(const uint8_t *data, size_t size, uint64_t max_pixels, char *error, size_t error_size,
                             uint32_t *ihdr_width, uint32_t *ihdr_height,
                             pv_png_context **ctx_out, png_structp *png_out, png_infop *info_out) {
    set_error(error, error_size, "");
    if (!data || size < 8 || png_sig_cmp(data, 0, 8) != 0) {
        set_error(error, error_size, "missing the PNG signature");
        return PV_CODEC_ERROR;
    }
    if (pv_png_ihdr_too_large(data, size, max_pixels, ihdr_width, ihdr_height)) return PV_CODEC_TOO_LARGE;
    if (!pv_png_chunks_fit(data, size, error, error_size)) return PV_CODEC_TRUNCATED;
    pv_png_context *ctx = calloc(1, sizeof *ctx);
    if (!ctx) return PV_CODEC_OUT_OF_MEMORY;
    ctx->data = data;
    ctx->size = size;
    ctx->error = error;
    ctx->error_size = error_size;
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, ctx, pv_png_error, pv_png_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        free(ctx);
        return PV_CODEC_OUT_OF_MEMORY;
    }
    png_set_read_fn(png, ctx, pv_png_read);
    // Bounds on what a small file can make libpng allocate: an ancillary chunk (text, ICC
    // profile, ...) or its decompressed form over 4 MiB, or over 256 such chunks, is refused
    // (the defaults of the system's libpng allowed a 64 MiB buffer for a 100-byte file).
    png_set_chunk_malloc_max(png, 4u << 20);
    png_set_chunk_cache_max(png, 256);
    *ctx_out = ctx;
    *png_out = png;
    *info_out = info;
    return PV_CODEC_OK;
}

static void pv_png_end_read(png_structp png, png_infop info, pv_png_context *ctx) {
    png_destroy_read_struct(&png, &info, NULL);
    pv_png_release_context(ctx);
}

int pv_png_decode(const uint8_t *data, size_t size, uint64_t max_pixels,
                  pv_decoded_image *out, char *error, size_t error_size) {
    memset(out, 0, sizeof *out);
    pv_png_context *ctx;
    png_structp png;
    png_infop info;
    int status = pv_png_begin_read(data, size, max_pixels, error, error_size, &out->width, &out->height, &ctx, &png, &info);
    if (status != PV_CODEC_OK) return status;

    if (setjmp(png_jmpbuf(png))) {
        status = ctx->truncated ? PV_CODEC_TRUNCATED : PV_CODEC_ERROR;
        pv_png_end_read(png, info, ctx);
        pv_decoded_image_free(out);
        return status;
    }

    png_read_info(png, info);
    png_uint_32 width, height;
    int bit_depth, color_type, interlace;
    png_get_IHDR(png, info, &width, &height, &bit_depth, &color_type, &interlace, NULL, NULL);
    out->width = width;
    out->height = height;
    if (exceeds(width, height, max_pixels)) {
        pv_png_end_read(png, info, ctx);
        return PV_CODEC_TOO_LARGE;
    }

    // Everything becomes 8-bit RGB, plus alpha where the file has an alpha channel or tRNS.
    if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (png_get_valid(png, info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);
    if (bit_depth == 16) png_set_scale_16(png);  // rounds (v * 255 / 65535); strip_16 would truncate
    if (color_type == PNG_COLOR_TYPE_GRAY || color_type == PNG_COLOR_TYPE_GRAY_ALPHA) png_set_gray_to_rgb(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);

    size_t channels = png_get_channels(png, info);
    size_t row_bytes = png_get_rowbytes(png, info);
    if ((channels != 3 && channels != 4) || row_bytes != (size_t)width * channels) {
        png_error(png, "unexpected pixel layout after conversion to 8-bit RGB");
    }
    out->channels = (uint32_t)channels;
    out->pixels = malloc(row_bytes * height);
    ctx->rows = malloc(sizeof(png_bytep) * height);
    if (!out->pixels || !ctx->rows) png_error(png, "out of memory");
    for (png_uint_32 y = 0; y < height; y++) ctx->rows[y] = out->pixels + (size_t)y * row_bytes;
    png_read_image(png, ctx->rows);
    png_read_end(png, NULL);  // checks the chunks after the image data, through IEND

    pv_png_end_read(png, info, ctx);
    return PV_CODEC_OK;
}

static char *copy_string(const char *text) {
    size_t length = strlen(text);
    char *copy = malloc(length + 1);
    if (copy) memcpy(copy, text, length + 1);
    return copy;
}

int pv_png_read_text(const uint8_t *data, size_t size, uint64_t max_pixels,
                     pv_text_list *out, char *error, size_t error_size) {
    memset(out, 0, sizeof *out);
    pv_png_context *ctx;
    png_structp png;
    png_infop info;
    uint32_t ihdr_width, ihdr_height;
    int status = pv_png_begin_read(data, size, max_pixels, error, error_size, &ihdr_width, &ihdr_height, &ctx, &png, &info);
    if (status != PV_CODEC_OK) return status;

    if (setjmp(png_jmpbuf(png))) {
        status = ctx->truncated ? PV_CODEC_TRUNCATED : PV_CODEC_ERROR;
        pv_png_end_read(png, info, ctx);
        pv_text_list_free(out);
        return status;
    }

    png_read_info(png, info);
    png_uint_32 width = png_get_image_width(png, info);
    png_uint_32 height = png_get_image_height(png, info);
    if (exceeds(width, height, max_pixels)) {
        pv_png_end_read(png, info, ctx);
        return PV_CODEC_TOO_LARGE;
    }
    // Text may follow the image data, and libpng only gets there by reading the rows.
    int passes = png_set_interlace_handling(png);
    png_read_update_info(png, info);
    ctx->scratch_row = malloc(png_get_rowbytes(png, info));
    if (!ctx->scratch_row) png_error(png, "out of memory");
    for (int pass = 0; pass < passes; pass++) {
        for (png_uint_32 y = 0; y < height; y++) png_read_row(png, ctx->scratch_row, NULL);
    }
    png_read_end(png, info);

    png_textp text = NULL;
    int count = png_get_text(png, info, &text, NULL);
    if (count > 0) {
        out->entries = calloc((size_t)count, sizeof(pv_text_entry));
        if (!out->entries) png_error(png, "out of memory");
        for (int i = 0; i < count; i++) {
            pv_text_entry *entry = &out->entries[out->count++];
            entry->key = copy_string(text[i].key);
            entry->value = copy_string(text[i].text ? text[i].text : "");
            entry->utf8 = text[i].compression == PNG_ITXT_COMPRESSION_NONE ||
                          text[i].compression == PNG_ITXT_COMPRESSION_zTXt;
            if (!entry->key || !entry->value) png_error(png, "out of memory");
        }
    }
    pv_png_end_read(png, info, ctx);
    return PV_CODEC_OK;
}

static void pv_png_write(png_structp png, png_bytep data, size_t length) {
    pv_buffer *buffer = png_get_io_ptr(png);
    if (length > buffer->capacity - buffer->size) {
        size_t capacity = buffer->capacity ? buffer->capacity * 2 : 4096;
        while (capacity - buffer->size < length) capacity *= 2;
        uint8_t *bytes = realloc(buffer->bytes, capacity);
        if (!bytes) png_error(png, "out of memory");
        buffer->bytes = bytes;
        buffer->capacity = capacity;
    }
    memcpy(buffer->bytes + buffer->size, data, length);
    buffer->size += length;
}

static void pv_png_flush(png_structp png) { (void)png; }

int pv_png_encode(const uint8_t *pixels, uint32_t width, uint32_t height, uint32_t channels,
                  const pv_text_input *text, size_t text_count,
                  pv_buffer *out, char *error, size_t error_size) {
    memset(out, 0, sizeof *out);
    set_error(error, error_size, "");
    if (channels != 3 && channels != 4) {
        set_error(error, error_size, "only RGB and RGBA images can be written");
        return PV_CODEC_ERROR;
    }
    pv_png_context *ctx = calloc(1, sizeof *ctx);
    if (!ctx) return PV_CODEC_OUT_OF_MEMORY;
    ctx->error = error;
    ctx->error_size = error_size;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, ctx, pv_png_error, pv_png_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) {
        png_destroy_write_struct(&png, NULL);
        free(ctx);
        return PV_CODEC_OUT_OF_MEMORY;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        pv_png_release_context(ctx);
        pv_buffer_free(out);
        return PV_CODEC_ERROR;
    }
    png_set_write_fn(png, out, pv_png_write, pv_png_flush);
    png_set_IHDR(png, info, width, height, 8,
                 channels == 4 ? PNG_COLOR_TYPE_RGB_ALPHA : PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (text_count > 0) {
        ctx->text = calloc(text_count, sizeof(png_text));
        if (!ctx->text) png_error(png, "out of memory");
        for (size_t i = 0; i < text_count; i++) {
            ctx->text[i].compression = text[i].utf8 ? PNG_ITXT_COMPRESSION_NONE : PNG_TEXT_COMPRESSION_NONE;
            ctx->text[i].key = (png_charp)text[i].key;
            ctx->text[i].text = (png_charp)text[i].value;
            ctx->text[i].text_length = text[i].utf8 ? 0 : strlen(text[i].value);
            ctx->text[i].itxt_length = text[i].utf8 ? strlen(text[i].value) : 0;
        }
        png_set_text(png, info, ctx->text, (int)text_count);  // copies; written before IDAT
    }
    png_write_info(png, info);
    size_t row_bytes = (size_t)width * channels;
    for (uint32_t y = 0; y < height; y++) png_write_row(png, (png_const_bytep)(pixels + (size_t)y * row_bytes));
    png_write_end(png, NULL);

    png_destroy_write_struct(&png, &info);
    pv_png_release_context(ctx);
    return PV_CODEC_OK;
}
