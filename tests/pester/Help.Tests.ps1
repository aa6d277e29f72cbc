# Help as a user reads it in pwsh: Get-Help -Full and -Examples for every cmdlet the module exports (today's and any
# added later, which must bring their help with them), from the MAML file in out/VirtTools/en-US, and the about_ topics.
BeforeDiscovery {
    . "$PSScriptRoot/Common.ps1"
    Import-Module $ModuleManifest -Force
    $cmdlets = Get-Command -Module VirtTools -CommandType Cmdlet | ForEach-Object { @{ Name = $_.Name } }
}
BeforeAll {
    . "$PSScriptRoot/Common.ps1"
    Import-Module $ModuleManifest -Force
    $commonParameters = [System.Management.Automation.PSCmdlet]::CommonParameters + [System.Management.Automation.PSCmdlet]::OptionalCommonParameters
}

Describe 'Help for <Name>' -ForEach $cmdlets {
    BeforeAll {
        $help = Get-Help $Name -Full
        $command = Get-Command $Name
    }

    It 'comes from the module''s help file' {
        $help.PSObject.TypeNames | Should -Contain 'MamlCommandHelpInfo'
        $help.ModuleName | Should -Be 'VirtTools'
    }

    It 'has a synopsis of its own, not the syntax pwsh shows when help is missing' {
        $help.Synopsis | Should -Not -BeNullOrEmpty
        $help.Synopsis.Trim() | Should -Not -BeLike "$Name *"
    }

    It 'has a description' {
        ($help.description.Text -join '').Trim() | Should -Not -BeNullOrEmpty
    }

    It 'documents every parameter the cmdlet declares, and no other' {
        $declared = $command.Parameters.Keys | Where-Object { $_ -notin $commonParameters } | Sort-Object
        $help.parameters.parameter.name | Sort-Object | Should -Be $declared
    }

    It 'describes each parameter' {
        foreach ($parameter in $help.parameters.parameter) {
            ($parameter.description.Text -join '').Trim() | Should -Not -BeNullOrEmpty -Because "-$($parameter.name) needs a description"
        }
    }

    It 'names the output types Get-Command reports under OUTPUTS' {
        $documented = $help.returnValues.returnValue.type.name
        foreach ($type in $command.OutputType | Where-Object Type -ne ([void])) {
            $documented | Should -Contain $type.Name
        }
    }

    It 'shows at least one example with code under -Examples' {
        $examples = (Get-Help $Name -Examples).examples.example
        $examples | Should -Not -BeNullOrEmpty
        $examples | ForEach-Object { $_.code | Should -Not -BeNullOrEmpty -Because "$($_.title) needs code" }
        Get-Help $Name -Examples | Out-String | Should -Match 'Example 1'
    }
}

Describe 'Conceptual help' {
    It 'Get-Help <_> shows the topic' -ForEach 'about_VirtTools', 'about_VirtTools_HostProfile' {
        Get-Help $_ | Out-String | Should -Match "(?m)^\s*$_\s*$"
    }
}
