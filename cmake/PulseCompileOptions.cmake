# Warnings are errors for everything the project compiles.
add_compile_options(-Wall -Wextra -Werror)

if(PULSE_SANITIZE)
    add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
    add_link_options(-fsanitize=address,undefined)
endif()
