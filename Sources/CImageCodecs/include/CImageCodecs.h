#pragma once
/* placeholder */
int pv_codecs_placeholder(void);
