<#
.SYNOPSIS
    Builds VirtTools: the module folder at <Out>/VirtTools and the host at <Out>/virttools; -Test runs the tests.
.DESCRIPTION
    A thin wrapper over `dotnet build` and `dotnet test`, which do the real work (see the .csproj files).
    It uses only core commands and .NET calls, so `virttools -f build.ps1` runs it where pwsh is not installed.
.EXAMPLE
    ./build.ps1 -Test
.EXAMPLE
    virttools -f ./build.ps1 -Configuration Release -Out /tmp/vt
#>
[CmdletBinding()]
param(
    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Debug',
    # Where the module folder and the host go (default: out/ beside this script).
    [string] $Out = "$PSScriptRoot/out",
    [switch] $Test
)
$ErrorActionPreference = 'Stop'
$Out = [System.IO.Path]::GetFullPath($Out).TrimEnd('/') + '/'
$solution = "$PSScriptRoot/VirtTools.sln"

& dotnet build $solution --nologo -v q -clp:ErrorsOnly -c $Configuration "-p:OutRoot=$Out"
if ($LASTEXITCODE -ne 0) { throw "dotnet build failed (exit code $LASTEXITCODE)." }
"Module: $($Out)VirtTools/VirtTools.psd1"
"Host:   $($Out)virttools"

if ($Test) {
    & dotnet test $solution --no-build --nologo -c $Configuration
    if ($LASTEXITCODE -ne 0) { throw "dotnet test failed (exit code $LASTEXITCODE)." }
}
