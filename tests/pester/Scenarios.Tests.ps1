# Runs every scenario script under Pester, for users who have pwsh and Pester (neither exists on the build machines:
# xunit runs the same files there, see tests/VirtTools.Tests/PowerShell/ScenarioTests.cs).
# usage: Invoke-Pester tests/pester -Output Detailed   (after dotnet build; the fixture tree must be extracted to $env:VIRTTOOLS_FIXTURE)
BeforeDiscovery {
    $scenarios = Get-ChildItem "$PSScriptRoot/../scenarios/*.Scenario.ps1" | ForEach-Object { @{ Name = $_.BaseName; Path = $_.FullName } }
}
BeforeAll {
    Import-Module "$PSScriptRoot/../../out/VirtTools/VirtTools.psd1" -Force
}
Describe 'VirtTools scenarios' {
    It '<Name>' -ForEach $scenarios {
        { & $Path -Root $env:VIRTTOOLS_FIXTURE } | Should -Not -Throw
    }
}
