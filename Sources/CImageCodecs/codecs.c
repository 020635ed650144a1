int pv_codecs_placeholder(void) { return 0; }
