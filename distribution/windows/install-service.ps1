<#
.SYNOPSIS
  Registers berth as the Windows service "berth" (or removes it with -Uninstall). NOT YET RUN ON WINDOWS.

.DESCRIPTION
  berth does not speak the Service Control Manager's protocol itself (StartServiceCtrlDispatcher,
  SetServiceStatus): a plain `New-Service -BinaryPathName berth.cmd` would be reported as failing to start
  (error 1053) after 30 seconds. So the service's binary is a service wrapper, WinSW (https://github.com/winsw/winsw,
  MIT), which starts berth.cmd, and stops it with Ctrl+C so that berth's shutdown hook runs (containers keep
  running, as on Linux). Download WinSW-x64.exe yourself and pass its path as -WinSW; it is copied to
  BERTH_HOME\bin\berth-service.exe next to its berth-service.xml.

  The service starts automatically, after the Host Network Service and the Host Compute Service, and sc.exe
  makes the SCM restart it 5 seconds after a failure. Its log is BERTH_HOME\log\berth-service.*.log.

.EXAMPLE
  .\install-service.ps1 -WinSW C:\Downloads\WinSW-x64.exe -Config C:\ProgramData\berth\config.toml
  .\install-service.ps1 -Uninstall
#>
param(
    [string] $WinSW = '',
    [string] $Config = (Join-Path $env:ProgramData 'berth\config.toml'),
    [string] $BerthHome = (Split-Path -Parent (Split-Path -Parent $MyInvocation.MyCommand.Path)),
    [switch] $Uninstall
)
$ErrorActionPreference = 'Stop'
$principal = New-Object Security.Principal.WindowsPrincipal([Security.Principal.WindowsIdentity]::GetCurrent())
if (-not $principal.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)) {
    throw 'run this from an elevated PowerShell (Administrators)'
}
$wrapper = Join-Path $BerthHome 'bin\berth-service.exe'

if ($Uninstall) {
    if (Get-Service berth -ErrorAction SilentlyContinue) {
        Stop-Service berth -ErrorAction SilentlyContinue
        & $wrapper uninstall
        if ($LASTEXITCODE -ne 0) { & sc.exe delete berth | Out-Null }
    }
    Write-Host 'service berth removed'
    return
}

if ($WinSW -eq '' -or -not (Test-Path $WinSW)) { throw '-WinSW must name WinSW-x64.exe (see the description)' }
if (-not (Test-Path (Join-Path $BerthHome 'bin\berth.cmd'))) { throw "no bin\berth.cmd under $BerthHome" }
New-Item -ItemType Directory -Force (Join-Path $BerthHome 'log') | Out-Null
Copy-Item $WinSW $wrapper -Force

$xml = @"
<service>
  <id>berth</id>
  <name>berth</name>
  <description>berth: the Kubernetes CRI runtime (CRI on npipe:////./pipe/berth)</description>
  <executable>%SystemRoot%\System32\cmd.exe</executable>
  <arguments>/c "$BerthHome\bin\berth.cmd" daemon --config "$Config"</arguments>
  <startmode>Automatic</startmode>
  <depend>hns</depend>
  <depend>vmcompute</depend>
  <stoptimeout>30 sec</stoptimeout>
  <logpath>$BerthHome\log</logpath>
  <log mode="roll-by-size"><sizeThreshold>10240</sizeThreshold><keepFiles>8</keepFiles></log>
  <onfailure action="restart" delay="5 sec"/>
</service>
"@
Set-Content -Encoding UTF8 (Join-Path $BerthHome 'bin\berth-service.xml') $xml
& $wrapper install
if ($LASTEXITCODE -ne 0) { throw 'WinSW install failed' }
# The SCM's own restart policy too, in case the wrapper itself dies.
& sc.exe failure berth reset= 86400 actions= restart/5000/restart/5000/restart/5000 | Out-Null
Start-Service berth
Get-Service berth
Write-Host 'kubelet: --container-runtime-endpoint=npipe:////./pipe/berth --image-service-endpoint=npipe:////./pipe/berth'
