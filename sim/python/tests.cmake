# The Python API's tests (tests/python/api, pytest), where the build has the API; included by
# tests/CMakeLists.txt. They run under the Python the module was built for (/usr/bin/python3
# unless SHORTFALL_PYTHON_EXECUTABLE says otherwise).
if(SHORTFALL_WITH_PYTHON)
  add_test(NAME py_api
           COMMAND ${CMAKE_COMMAND} -E env PYTHONPATH=${PROJECT_BINARY_DIR}/python
                   SHORTFALL_CLI=$<TARGET_FILE:shortfall>
                   ${SHORTFALL_PYTHON_FOR_TESTS} -m pytest -q -p no:cacheprovider ${PROJECT_SOURCE_DIR}/tests/python/api
           WORKING_DIRECTORY ${PROJECT_BINARY_DIR})
  set_tests_properties(py_api PROPERTIES TIMEOUT 600)
endif()
