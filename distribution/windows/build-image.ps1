<#
.SYNOPSIS
  Assembles the berth image for Windows: a jlink runtime from a Windows JDK 25, berth's jars, plugins, bin\berth.cmd.

.DESCRIPTION
  The jars are the same as on Linux (build them anywhere with
  `mvn -B -pl distribution -am package -DskipTests` and copy distribution\target\staging\lib and the plugin
  archives over), but the Java runtime must be linked from a Windows JDK. Mirrors
  distribution/src/build/build-image.sh. NOT YET RUN ON WINDOWS.

.EXAMPLE
  .\build-image.ps1 -Jdk 'C:\Program Files\Eclipse Adoptium\jdk-25' -Lib .\staging\lib -Plugins .\plugins -Out C:\berth
#>
param(
    [Parameter(Mandatory)] [string] $Jdk,
    [Parameter(Mandatory)] [string] $Lib,
    [string] $Plugins = '',
    [Parameter(Mandatory)] [string] $Out,
    [switch] $NoAotCache
)
$ErrorActionPreference = 'Stop'
$here = Split-Path -Parent $MyInvocation.MyCommand.Path

if (Test-Path $Out) { Remove-Item -Recurse -Force $Out }
foreach ($d in 'lib', 'plugins', 'bin', 'conf') { New-Item -ItemType Directory -Force (Join-Path $Out $d) | Out-Null }
Copy-Item (Join-Path $Lib '*.jar') (Join-Path $Out 'lib')
if ($Plugins -ne '') { Copy-Item (Join-Path $Plugins '*') (Join-Path $Out 'plugins') }

# The JDK modules the jars need, as jdeps sees them; the same additions and removals as build-image.sh.
$core = Get-ChildItem (Join-Path $Out 'lib') -Filter 'berth-core-*.jar' | Select-Object -First 1
$deps = & (Join-Path $Jdk 'bin\jdeps.exe') --print-module-deps --ignore-missing-deps --multi-release 25 `
    --class-path (Join-Path $Out 'lib\*') $core.FullName
if ($LASTEXITCODE -ne 0) { throw 'jdeps failed' }
$modules = ($deps.Trim() -split ',') + 'jdk.crypto.ec', 'jdk.zipfs', 'jdk.unsupported', 'java.logging' |
    Where-Object { $_ -notin 'java.compiler', 'java.desktop' } | Sort-Object -Unique
Write-Host "jlink modules: $($modules -join ',')"
& (Join-Path $Jdk 'bin\jlink.exe') --add-modules ($modules -join ',') --strip-debug --no-header-files `
    --no-man-pages --compress=zip-6 --output (Join-Path $Out 'runtime')
if ($LASTEXITCODE -ne 0) { throw 'jlink failed' }

Copy-Item (Join-Path $here 'berth.cmd') (Join-Path $Out 'bin\berth.cmd')
Copy-Item (Join-Path $here 'install-service.ps1') (Join-Path $Out 'bin\install-service.ps1')

if (-not $NoAotCache) {
    # A training run (start, serve, stop) on a TCP loopback port and scratch directories, as on Linux.
    $train = Join-Path ([IO.Path]::GetTempPath()) ("berth-train-" + [guid]::NewGuid())
    New-Item -ItemType Directory $train | Out-Null
    $t = $train.Replace('\', '\\')
    Set-Content (Join-Path $train 'config.toml') @"
socket = "tcp://:0"
state = "$t\\state"
root = "$t\\root"
"@
    $env:BERTH_JAVA_OPTS = "-XX:AOTCacheOutput=$Out\lib\berth.aot -Xlog:aot=off -Xlog:cds=off"
    & (Join-Path $Out 'bin\berth.cmd') daemon --config (Join-Path $train 'config.toml') --exit-after-start
    Remove-Item Env:\BERTH_JAVA_OPTS
    if ($LASTEXITCODE -ne 0 -or -not (Test-Path "$Out\lib\berth.aot")) {
        Write-Warning 'no AOT cache (the training run failed); berth runs the same without it'
        Remove-Item -Force -ErrorAction SilentlyContinue "$Out\lib\berth.aot"
    }
    Remove-Item -Recurse -Force $train
}
Write-Host "image: $Out"
