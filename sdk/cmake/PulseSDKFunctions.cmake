# pulse_add_plugin(<target> SOURCES <files>... [OUTPUT_NAME <name>] [OUTPUT_DIRECTORY <dir>])
#
# Builds a Pulse plugin: a shared module that exports only pulse_plugin_entry_v1 (hidden visibility plus
# a linker version script), links no host symbol, and refuses undefined symbols at link time so that a
# missing dependency fails the build instead of the load. The file is named <OUTPUT_NAME or target>.so.
# A global property, not a variable: pulse_add_plugin() is called from other directory scopes.
set_property(GLOBAL PROPERTY PULSE_SDK_CMAKE_DIR "${CMAKE_CURRENT_LIST_DIR}")
option(PULSE_PLUGIN_NO_UNDEFINED "Link plugins with -z defs (off for sanitizer builds)" ON)

function(pulse_add_plugin target)
    cmake_parse_arguments(ARG "" "OUTPUT_NAME;OUTPUT_DIRECTORY" "SOURCES" ${ARGN})
    if(NOT ARG_SOURCES)
        message(FATAL_ERROR "pulse_add_plugin(${target}): SOURCES is required")
    endif()
    add_library(${target} MODULE ${ARG_SOURCES})
    target_link_libraries(${target} PRIVATE PulseSDK::sdk)
    set_target_properties(${target} PROPERTIES
        PREFIX ""
        C_VISIBILITY_PRESET hidden
        CXX_VISIBILITY_PRESET hidden
        VISIBILITY_INLINES_HIDDEN ON)
    if(ARG_OUTPUT_NAME)
        set_target_properties(${target} PROPERTIES OUTPUT_NAME ${ARG_OUTPUT_NAME})
    endif()
    if(ARG_OUTPUT_DIRECTORY)
        set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${ARG_OUTPUT_DIRECTORY})
    endif()
    get_property(sdk_cmake_dir GLOBAL PROPERTY PULSE_SDK_CMAKE_DIR)
    target_link_options(${target} PRIVATE "LINKER:--version-script=${sdk_cmake_dir}/pulse_plugin.map")
    set_property(TARGET ${target} APPEND PROPERTY LINK_DEPENDS "${sdk_cmake_dir}/pulse_plugin.map")
    if(PULSE_PLUGIN_NO_UNDEFINED)
        target_link_options(${target} PRIVATE "LINKER:-z,defs")
    endif()
endfunction()
