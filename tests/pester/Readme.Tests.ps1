# The README's "Usage by task" is a demo a reader runs in pwsh on the captured tree ($env:VIRTTOOLS_ROOT at it): every
# ```powershell block there runs as written, Format-List and all, without an error. (xunit's ReadmeTests runs the same
# blocks in the virttools host.)
BeforeDiscovery {
    $readme = Get-Content -Raw "$PSScriptRoot/../../README.md"
    $usage = [regex]::Match($readme, '(?ms)^## Usage by task\r?\n(.*?)(?=^## )').Groups[1].Value
    $task = ''
    $blocks = foreach ($match in [regex]::Matches($usage, '(?ms)^### (?<heading>[^\n]+)$|^```powershell\n(?<code>.*?)^```')) {
        if ($match.Groups['heading'].Success) { $task = $match.Groups['heading'].Value.Trim() }
        else { @{ Task = $task; Code = $match.Groups['code'].Value } }
    }
}
BeforeAll {
    . "$PSScriptRoot/Common.ps1"
    Import-Module $ModuleManifest -Force
}
Describe 'README usage: <Task>' -ForEach $blocks {
    BeforeEach {
        $root = New-FixtureCopy
        $previousRoot = $env:VIRTTOOLS_ROOT
        $env:VIRTTOOLS_ROOT = $root
    }
    AfterEach {
        $env:VIRTTOOLS_ROOT = $previousRoot
        Remove-FixtureCopy $root
    }

    It 'runs as written on the demo tree' {
        Push-Location $TestDrive
        try {
            $everything = @(& ([scriptblock]::Create($Code)) 2>&1)
            # What a reader sees: the tables and lists render (Format-List output included).
            $null = $everything | Out-String
            $everything.Where({ $_ -is [System.Management.Automation.ErrorRecord] }) | Should -BeNullOrEmpty
        } finally { Pop-Location }
    }
}
