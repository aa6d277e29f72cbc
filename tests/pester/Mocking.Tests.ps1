# How a user tests their own automation over VirtTools: mock the VirtTools cmdlets it calls, so the test runs on any
# machine and nothing is handed to vfio-pci. The subject is examples/Invoke-VfioHandOff.ps1, dot-sourced as a script
# and imported as the module examples/VfioHandOff. A binary cmdlet can be mocked only once its module is imported.
BeforeAll {
    . "$PSScriptRoot/Common.ps1"
    Import-Module $ModuleManifest -Force

    # Functions as Get-PciDevice would describe them, trimmed to what the script reads.
    function New-PciFunction([string] $Address, [string] $Driver) {
        [pscustomobject] @{ Address = $Address; Driver = $Driver; ClassCode = '0x020000' }
    }
}

Describe 'Invoke-VfioHandOff, dot-sourced' {
    BeforeAll {
        . "$PSScriptRoot/examples/Invoke-VfioHandOff.ps1"
        Mock Set-PciPassthrough { }
    }

    It 'hands the one NIC still on its host driver to vfio-pci' {
        Mock Get-PciDevice { New-PciFunction '0000:03:00.0' 'e1000e'; New-PciFunction '0000:04:00.0' 'vfio-pci' }

        Invoke-VfioHandOff

        Should -Invoke Set-PciPassthrough -Times 1 -Exactly
        Should -Invoke Set-PciPassthrough -Times 1 -Exactly -ParameterFilter { $Address -eq '0000:03:00.0' }
    }

    It 'hands nothing over when every NIC is already on vfio-pci' {
        Mock Get-PciDevice { New-PciFunction '0000:04:00.0' 'vfio-pci' }

        Invoke-VfioHandOff

        Should -Invoke Set-PciPassthrough -Times 0 -Exactly
    }

    It 'asks Get-PciDevice for network controllers only, under the root it was given' {
        Mock Get-PciDevice { }

        Invoke-VfioHandOff -Root /mnt/captured

        Should -Invoke Get-PciDevice -Times 1 -Exactly -ParameterFilter { $Class -contains '0x02' -and $Root -eq '/mnt/captured' }
    }

    It 'passes -IncludeIommuGroup and the root on, and answers the confirmation itself' {
        Mock Get-PciDevice { New-PciFunction '0000:03:00.0' 'igb' }

        Invoke-VfioHandOff -Root /mnt/captured -IncludeIommuGroup

        Should -Invoke Set-PciPassthrough -Times 1 -Exactly -ParameterFilter {
            $IncludeIommuGroup -and $Root -eq '/mnt/captured' -and $Confirm -eq $false
        }
    }

    It 'hands nothing over with -WhatIf' {
        Mock Get-PciDevice { New-PciFunction '0000:03:00.0' 'e1000e' }

        Invoke-VfioHandOff -WhatIf

        Should -Invoke Set-PciPassthrough -Times 0 -Exactly
    }

    It 'lets a VirtTools error reach the caller as it is' {
        Mock Get-PciDevice { New-PciFunction '0000:03:00.0' 'e1000e' }
        Mock Set-PciPassthrough { throw [System.Management.Automation.ErrorRecord]::new(
                [InvalidOperationException]::new('group 7 is not viable'), 'IommuGroupNotViable', 'InvalidOperation', $Address) }

        { Invoke-VfioHandOff -ErrorAction Stop } | Should -Throw -ErrorId 'IommuGroupNotViable'
    }

    It 'keeps the parameters of the real cmdlet: a mock still refuses one Get-PciDevice does not have' {
        Mock Get-PciDevice { }

        { Get-PciDevice -NoSuchParameter } | Should -Throw -ErrorId 'NamedParameterNotFound,*'
    }
}

Describe 'Invoke-VfioHandOff, from the user module VfioHandOff' {
    BeforeAll {
        Import-Module "$PSScriptRoot/examples/VfioHandOff/VfioHandOff.psm1" -Force
        # The module's calls resolve in the module's scope, so the mocks are placed there.
        Mock Get-PciDevice -ModuleName VfioHandOff { New-PciFunction '0000:03:00.0' 'e1000e'; New-PciFunction '0000:03:00.1' 'e1000e' }
        Mock Set-PciPassthrough -ModuleName VfioHandOff { }
    }
    AfterAll { Remove-Module VfioHandOff }

    It 'hands each NIC over once, through the mocks in the module scope' {
        VfioHandOff\Invoke-VfioHandOff

        Should -Invoke Set-PciPassthrough -ModuleName VfioHandOff -Times 2 -Exactly
        Should -Invoke Set-PciPassthrough -ModuleName VfioHandOff -Times 1 -Exactly -ParameterFilter { $Address -eq '0000:03:00.1' }
    }

    It 'leaves callers outside the module with the real cmdlet' {
        # The mock would return two functions; the real cmdlet refuses a root that does not exist.
        { Get-PciDevice -Root "$TestDrive/absent" } | Should -Throw -ErrorId 'RootNotFound,VirtTools.Commands.GetPciDeviceCommand'
        Should -Invoke Get-PciDevice -ModuleName VfioHandOff -Times 0 -Exactly
    }
}
