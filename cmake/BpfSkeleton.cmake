include_guard(GLOBAL)
# BPF programs built into libbpf skeletons (the kernel fast path, the bench's reflector): clang -target bpf
# compiles NAME.bpf.c, bpftool turns the object into NAME.skel.h in OUT_DIR. RDV_HAVE_BPF_TOOLS says whether
# clang, bpftool and libbpf-dev (PkgConfig::LIBBPF) are all here; without them nothing BPF is built.
find_package(PkgConfig REQUIRED)
find_program(RDV_BPF_CLANG NAMES clang clang-14)
find_program(RDV_BPFTOOL bpftool PATHS /usr/sbin /sbin)
pkg_check_modules(LIBBPF IMPORTED_TARGET GLOBAL libbpf)
if(RDV_BPF_CLANG AND RDV_BPFTOOL AND LIBBPF_FOUND)
  set(RDV_HAVE_BPF_TOOLS TRUE CACHE INTERNAL "clang, bpftool and libbpf-dev are here")
else()
  set(RDV_HAVE_BPF_TOOLS FALSE CACHE INTERNAL "clang, bpftool and libbpf-dev are here")
endif()

# rdv_bpf_skeleton(NAME SOURCE_DIR OUT_DIR [DEPENDS headers...]): OUT_DIR/NAME.skel.h from SOURCE_DIR/NAME.bpf.c.
function(rdv_bpf_skeleton name src_dir out_dir)
  cmake_parse_arguments(ARG "" "" "DEPENDS" ${ARGN})
  add_custom_command(OUTPUT ${out_dir}/${name}.bpf.o
    COMMAND ${CMAKE_COMMAND} -E make_directory ${out_dir}
    COMMAND ${RDV_BPF_CLANG} -O2 -g -target bpf -Wall -Werror -I/usr/include/${CMAKE_LIBRARY_ARCHITECTURE}
            -c ${src_dir}/${name}.bpf.c -o ${out_dir}/${name}.bpf.o
    DEPENDS ${src_dir}/${name}.bpf.c ${ARG_DEPENDS}
    COMMENT "BPF ${name}.bpf.o")
  add_custom_command(OUTPUT ${out_dir}/${name}.skel.h
    COMMAND ${RDV_BPFTOOL} gen skeleton ${out_dir}/${name}.bpf.o name ${name} > ${out_dir}/${name}.skel.h
    DEPENDS ${out_dir}/${name}.bpf.o
    COMMENT "bpftool skeleton ${name}.skel.h")
endfunction()
