// JPEG through libjpeg(-turbo). Its error_exit must not return, so it longjmps back
// here; the decompressor and scratch memory live in a heap context so they are
// still valid after the jump.
#include "CImageCodecs.h"
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>
#include <jerror.h>

typedef struct {
    struct jpeg_error_mgr manager;  // first: libjpeg hands back this pointer
    jmp_buf jump;
    struct jpeg_decompress_struct decompressor;
    char *error;
    size_t error_size;
    int truncated;
    JSAMPLE *cmyk_row;
} pv_jpeg_context;

static void set_error(char *error, size_t error_size, const char *message) {
    if (error && error_size > 0) snprintf(error, error_size, "%s", message);
}

static void pv_jpeg_error_exit(j_common_ptr info) {
    pv_jpeg_context *ctx = (pv_jpeg_context *)info->err;
    char message[JMSG_LENGTH_MAX];
    (*info->err->format_message)(info, message);
    set_error(ctx->error, ctx->error_size, message);
    longjmp(ctx->jump, 1);
}

// Warnings are ignored (libjpeg recovers from most corrupt data) except the end of
// input: libjpeg would pad the picture with grey, which is a truncated file.
static void pv_jpeg_emit_message(j_common_ptr info, int level) {
    if (level >= 0) return;  // trace messages
    info->err->num_warnings++;
    if (info->err->msg_code == JWRN_JPEG_EOF) {
        pv_jpeg_context *ctx = (pv_jpeg_context *)info->err;
        ctx->truncated = 1;
        set_error(ctx->error, ctx->error_size, "the file ends early");
        longjmp(ctx->jump, 1);
    }
}

static void pv_jpeg_output_message(j_common_ptr info) { (void)info; }

static uint8_t multiply(unsigned a, unsigned b) { return (uint8_t)((a * b + 127) / 255); }

int pv_jpeg_decode(const uint8_t *data, size_t size, uint64_t max_pixels,
                   pv_decoded_image *out, char *error, size_t error_size) {
    memset(out, 0, sizeof *out);
    set_error(error, error_size, "");
    if (!data || size < 4 || data[0] != 0xFF || data[1] != 0xD8) {
        set_error(error, error_size, "missing the JPEG start-of-image marker");
        return PV_CODEC_ERROR;
    }
    pv_jpeg_context *ctx = calloc(1, sizeof *ctx);
    if (!ctx) return PV_CODEC_OUT_OF_MEMORY;
    ctx->error = error;
    ctx->error_size = error_size;
    j_decompress_ptr info = &ctx->decompressor;
    info->err = jpeg_std_error(&ctx->manager);
    ctx->manager.error_exit = pv_jpeg_error_exit;
    ctx->manager.emit_message = pv_jpeg_emit_message;
    ctx->manager.output_message = pv_jpeg_output_message;
    if (setjmp(ctx->jump)) {
        int status = ctx->truncated ? PV_CODEC_TRUNCATED : PV_CODEC_ERROR;
        jpeg_destroy_decompress(info);
        free(ctx->cmyk_row);
        free(ctx);
        pv_decoded_image_free(out);
        return status;
    }
    jpeg_create_decompress(info);
    jpeg_mem_src(info, data, (unsigned long)size);
    jpeg_save_markers(info, JPEG_APP0 + 1, 0xFFFF);
    jpeg_read_header(info, TRUE);

    out->width = info->image_width;
    out->height = info->image_height;
    uint64_t width = info->image_width, height = info->image_height;
    if (width == 0 || height == 0 || width * height > max_pixels) {
        jpeg_destroy_decompress(info);
        free(ctx);
        return PV_CODEC_TOO_LARGE;
    }

    for (jpeg_saved_marker_ptr marker = info->marker_list; marker; marker = marker->next) {
        if (marker->marker == JPEG_APP0 + 1 && marker->data_length > 6 &&
            memcmp(marker->data, "Exif\0\0", 6) == 0) {
            out->exif_size = marker->data_length - 6;
            out->exif = malloc(out->exif_size);
            if (!out->exif) ERREXIT1(info, JERR_OUT_OF_MEMORY, 0);
            memcpy(out->exif, marker->data + 6, out->exif_size);
            break;
        }
    }

    // libjpeg converts gray and YCbCr to RGB itself, but not CMYK: that is done below.
    int cmyk = info->jpeg_color_space == JCS_CMYK || info->jpeg_color_space == JCS_YCCK;
    info->out_color_space = cmyk ? JCS_CMYK : JCS_RGB;
    jpeg_start_decompress(info);
    if (info->output_width != width || info->output_height != height ||
        info->output_components != (cmyk ? 4 : 3)) {
        ERREXIT(info, JERR_BAD_LENGTH);
    }
    out->channels = 3;
    out->pixels = malloc((size_t)(width * height * 3));
    if (cmyk) ctx->cmyk_row = malloc((size_t)width * 4);
    if (!out->pixels || (cmyk && !ctx->cmyk_row)) ERREXIT1(info, JERR_OUT_OF_MEMORY, 1);

    // Photoshop (and Pillow) store CMYK inverted, flagged by the Adobe marker.
    int inverted = info->saw_Adobe_marker;
    while (info->output_scanline < info->output_height) {
        uint8_t *destination = out->pixels + (size_t)info->output_scanline * (size_t)width * 3;
        JSAMPROW row = cmyk ? ctx->cmyk_row : destination;
        if (jpeg_read_scanlines(info, &row, 1) != 1) ERREXIT(info, JERR_INPUT_EMPTY);
        if (!cmyk) continue;
        for (size_t x = 0; x < width; x++) {
            unsigned c = row[4 * x], m = row[4 * x + 1], y = row[4 * x + 2], k = row[4 * x + 3];
            if (!inverted) { c = 255 - c; m = 255 - m; y = 255 - y; k = 255 - k; }
            destination[3 * x] = multiply(c, k);
            destination[3 * x + 1] = multiply(m, k);
            destination[3 * x + 2] = multiply(y, k);
        }
    }
    jpeg_finish_decompress(info);
    jpeg_destroy_decompress(info);
    free(ctx->cmyk_row);
    free(ctx);
    return PV_CODEC_OK;
}
