#ifndef _CORE_EXPORT_H
#define _CORE_EXPORT_H
#define EXPORT_SYMBOL(sym) extern int __export_##sym
#endif
