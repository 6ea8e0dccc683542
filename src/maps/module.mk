# src/maps: lookup tables behind one interface, table lists, match lists and
# the address search order. Builds on src/global and src/util.
LIBRARIES += maps
maps_SRCS := $(wildcard src/maps/*.c)
maps_LDLIBS := -ldb -lpcre2-8 -llmdb -lcdb
