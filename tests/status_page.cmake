# The status page (GET /) in a real headless chromium on the bundled demo; screenshots in
# build/status_page/ (CI artifact). Skipped (77) without chromium, chromium-driver, python3-selenium.
add_test(NAME "status page: firing alert, delivery and a silence through the form in chromium"
         COMMAND python3 ${CMAKE_CURRENT_SOURCE_DIR}/integration/status_page_browser_test.py
                 $<TARGET_FILE:ruleeval> ${CMAKE_SOURCE_DIR} ${CMAKE_BINARY_DIR}/status_page)
set_tests_properties("status page: firing alert, delivery and a silence through the form in chromium"
                     PROPERTIES LABELS integration TIMEOUT 300 SKIP_RETURN_CODE 77 COST 100)
