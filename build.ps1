<#
.SYNOPSIS
    Builds VirtTools: the module folder at <Out>/VirtTools and the host at <Out>/virttools; -Test runs the tests;
    -Package makes <Out>/VirtTools.<version>.nupkg, the module as a PowerShell repository serves it.
.DESCRIPTION
    A thin wrapper over `dotnet build`, `dotnet publish` and `dotnet test`, which do the real work (see the .csproj
    files). It uses only core commands and .NET calls, so `virttools -f build.ps1` runs it where pwsh is not installed;
    -Package needs pwsh 7.4 or later, for PSResourceGet's Compress-PSResource.
.EXAMPLE
    ./build.ps1 -Test
.EXAMPLE
    dotnet tool run pwsh -File build.ps1 -Package
.EXAMPLE
    virttools -f ./build.ps1 -Configuration Release -Out /tmp/vt
#>
[CmdletBinding()]
param(
    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Debug',
    # Where the module folder and the host go (default: out/ beside this script).
    [string] $Out = "$PSScriptRoot/out",
    [switch] $Test,
    # Also package the module (always Release) as <Out>/VirtTools.<version>.nupkg.
    [switch] $Package
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

if ($Package) {
    # <Out>/VirtTools as a Release build lays it out: its own assemblies precompiled for pwsh 7.6 (.NET 10) on linux-x64,
    # the IL they keep run by any other runtime or CPU (PrecompileModule in src/VirtTools/VirtTools.csproj says why a
    # `dotnet publish -r linux-x64` of the net8.0 module would not do).
    $staging = "$($Out)package/VirtTools"
    if ([System.IO.Directory]::Exists($staging)) { [System.IO.Directory]::Delete($staging, $true) }
    & dotnet build "$PSScriptRoot/src/VirtTools/VirtTools.csproj" --nologo -v q -clp:ErrorsOnly -c Release "-p:OutRoot=$($Out)package/"
    if ($LASTEXITCODE -ne 0) { throw "dotnet build of the package failed (exit code $LASTEXITCODE)." }
    if (-not (Get-Command Compress-PSResource -ErrorAction Ignore)) {
        throw 'Packaging needs PSResourceGet (Compress-PSResource): run build.ps1 -Package in pwsh 7.4 or later.'
    }
    $version = (Import-PowerShellDataFile "$staging/VirtTools.psd1").ModuleVersion
    $nupkg = "$($Out)VirtTools.$version.nupkg"
    if ([System.IO.File]::Exists($nupkg)) { [System.IO.File]::Delete($nupkg) }
    Compress-PSResource -Path $staging -DestinationPath $Out
    "Package: $nupkg"
}
