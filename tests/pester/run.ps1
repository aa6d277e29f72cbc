<#
.SYNOPSIS
    Runs the Pester suite (tests/pester/*.Tests.ps1) in this pwsh against the module folder users install.
.DESCRIPTION
    Imports the Pester version that tests/pester/PesterModule.proj pins, from the NuGet cache its restore filled, and
    ends with one line: "pester: N passed, N failed". Exits non-zero when a test failed or the run could not start.
    tests/run calls it as: dotnet tool run pwsh -NoProfile -File tests/pester/run.ps1
.EXAMPLE
    dotnet build; dotnet tool restore; dotnet restore tests/pester/PesterModule.proj
    dotnet tool run pwsh -NoProfile -File tests/pester/run.ps1 -Path tests/pester/Cmdlets.Tests.ps1
#>
[CmdletBinding()]
param(
    # Test files or folders (default: every *.Tests.ps1 beside this script).
    [string[]] $Path = @($PSScriptRoot),
    # The module folder under test (default: out/VirtTools, as `dotnet build` lays it out).
    [string] $ModuleManifest = "$PSScriptRoot/../../out/VirtTools/VirtTools.psd1",
    [ValidateSet('None', 'Normal', 'Detailed', 'Diagnostic')]
    [string] $Output = 'Detailed'
)
$ErrorActionPreference = 'Stop'

$pesterVersion = ([xml](Get-Content -Raw "$PSScriptRoot/PesterModule.proj")).Project.PropertyGroup.PesterVersion
$packages = if ($env:NUGET_PACKAGES) { $env:NUGET_PACKAGES } else { Join-Path $HOME '.nuget/packages' }
$pester = Join-Path $packages "pester/$pesterVersion/tools/Pester.psd1"
if (-not (Test-Path $pester)) {
    "Pester $pesterVersion is not in $packages; run: dotnet restore tests/pester/PesterModule.proj"
    'pester: 0 passed, 1 failed'
    exit 1
}
if (-not (Test-Path $ModuleManifest)) {
    "The module folder is missing: $ModuleManifest; run: dotnet build"
    'pester: 0 passed, 1 failed'
    exit 1
}
Import-Module $pester -RequiredVersion $pesterVersion -Force

# Test files read these, so each file also runs alone under a plain Invoke-Pester.
$env:VIRTTOOLS_MODULE = (Resolve-Path $ModuleManifest).Path

$configuration = New-PesterConfiguration
$configuration.Run.Path = $Path
$configuration.Run.PassThru = $true
$configuration.Output.Verbosity = $Output
# Logs (CI, tests/run) get plain text; a terminal gets Pester's colours.
if ([Console]::IsOutputRedirected) { $configuration.Output.RenderMode = 'Plaintext' }
$result = Invoke-Pester -Configuration $configuration

# A container that failed to run at all (a syntax error, a throwing BeforeAll outside It) counts as a failure.
$failed = $result.FailedCount + $result.FailedBlocksCount + $result.FailedContainersCount
"pester: $($result.PassedCount) passed, $failed failed"
exit ([int]($failed -gt 0 -or $result.PassedCount -eq 0))
