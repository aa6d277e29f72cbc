# Every scenario script (tests/scenarios) in real pwsh against the installed-layout module, each on its own copy of the
# captured kernel tree. xunit runs the same files in the embedded engine (ScenarioTests), so both hosts agree.
BeforeDiscovery {
    $scenarios = Get-ChildItem "$PSScriptRoot/../scenarios/*.Scenario.ps1" | ForEach-Object { @{ Name = $_.BaseName; Path = $_.FullName } }
}
BeforeAll {
    . "$PSScriptRoot/Common.ps1"
    Import-Module $ModuleManifest -Force
}
Describe 'Scenario <Name>' -ForEach $scenarios {
    BeforeEach { $root = New-FixtureCopy }
    AfterEach { Remove-FixtureCopy $root }

    It 'passes on the captured kernel tree' {
        Push-Location $TestDrive
        try { & $Path -Root $root } finally { Pop-Location }
    }
}
