# src/postalias: the postalias(1) command (newaliases runs it).
COMMANDS += postalias
postalias_SRCS := $(wildcard src/postalias/*.c)
postalias_DEPS := maps global util
postalias_LDLIBS :=
