@echo off
rem berth launcher for Windows: runs berth on the Java runtime shipped in this image (runtime\), as bin/berth
rem does on Linux. Install as BERTH_HOME\bin\berth.cmd. Not yet run on Windows: see docs/windows-install.md.
setlocal
for %%I in ("%~dp0..") do set "BERTH_HOME=%%~fI"
set "BERTH_AOT="
rem An AOT cache is only valid for the runtime that trained it: build-image.ps1 trains one on Windows.
if exist "%BERTH_HOME%\lib\berth.aot" set "BERTH_AOT=-XX:AOTCache=%BERTH_HOME%\lib\berth.aot -Xlog:aot=off -Xlog:cds=off"
rem The same small, steady footprint as on Linux, without bin/berth's JIT directives (lib/jit-directives.json),
rem which have not been measured on Windows. --enable-native-access: JNA (named pipe, HCS) and zstd-jni.
"%BERTH_HOME%\runtime\bin\java.exe" ^
  -XX:+UseSerialGC -Xms16m -Xmx256m -XX:MinHeapFreeRatio=5 -XX:MaxHeapFreeRatio=20 -Xss512k ^
  -XX:ReservedCodeCacheSize=64m -XX:+ExitOnOutOfMemoryError ^
  -Dio.grpc.netty.shaded.io.netty.allocator.numDirectArenas=1 -Dio.netty.allocator.numDirectArenas=1 ^
  --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow ^
  %BERTH_AOT% %BERTH_JAVA_OPTS% ^
  "-Dberth.home=%BERTH_HOME%" -cp "%BERTH_HOME%\lib\*" dev.berth.core.cli.Main %*
exit /b %ERRORLEVEL%
