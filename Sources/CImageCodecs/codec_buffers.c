// Release functions for the buffers the codecs hand to Swift.
#include "CImageCodecs.h"
#include <stdlib.h>

void pv_decoded_image_free(pv_decoded_image *image) {
    if (!image) return;
    free(image->pixels);
    free(image->exif);
    image->pixels = NULL;
    image->exif = NULL;
    image->exif_size = 0;
}

void pv_buffer_free(pv_buffer *buffer) {
    if (!buffer) return;
    free(buffer->bytes);
    buffer->bytes = NULL;
    buffer->size = 0;
    buffer->capacity = 0;
}

void pv_text_list_free(pv_text_list *list) {
    if (!list) return;
    for (size_t i = 0; i < list->count; i++) {
        free(list->entries[i].key);
        free(list->entries[i].value);
    }
    free(list->entries);
    list->entries = NULL;
    list->count = 0;
}
