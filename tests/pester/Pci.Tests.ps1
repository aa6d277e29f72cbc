# PCI functions, IOMMU groups, INTx sharing and passthrough, on a copy of the captured 6.1 tree: the xHCI (00:01.0,
# MSI-X), the e1000 on vfio-pci alone in group 2, the virtio disk, and the ICH9 functions sharing group 4 and IRQ 10.
# Every test only reads or runs with -WhatIf (and proves it wrote nothing), so the file shares one copy.
BeforeAll {
    . "$PSScriptRoot/Common.ps1"
    Import-Module $ModuleManifest -Force
    $root = New-FixtureCopy
    $pciDevices = "$root/sys/bus/pci/devices"
}
AfterAll { Remove-FixtureCopy $root }

Describe 'Get-PciDevice' {
    It 'lists every function of sys/bus/pci/devices' {
        # ForEach-Object, not .Address: member enumeration would find the array's own Address() method first.
        Get-PciDevice -Root $root | ForEach-Object Address | Should -Be (Get-ChildItem $pciDevices -Name | Sort-Object)
    }

    It 'reads the ids and driver each function has in sysfs' {
        $nic = Get-PciDevice -Root $root 0000:00:02.0
        "0x$($nic.VendorId)" | Should -Be (Get-Content "$pciDevices/0000:00:02.0/vendor")
        "0x$($nic.DeviceId)" | Should -Be (Get-Content "$pciDevices/0000:00:02.0/device")
        $nic.Driver | Should -Be (Split-Path -Leaf (Get-Item "$pciDevices/0000:00:02.0/driver").LinkTarget)
    }

    It 'takes the short address form and wildcards' {
        Get-PciDevice -Root $root 00:1f.* | ForEach-Object Address | Should -Be '0000:00:1f.0', '0000:00:1f.2', '0000:00:1f.3'
        (Get-PciDevice -Root $root 00:01.0).Address | Should -Be '0000:00:01.0'
    }

    It 'selects network controllers by class prefix and vfio functions by driver pattern' {
        (Get-PciDevice -Root $root -Class 0x02).Address | Should -Be '0000:00:02.0'
        (Get-PciDevice -Root $root -Driver vfio*).Address | Should -Be '0000:00:02.0'
    }

    It 'gives $null for an attribute this kernel did not provide (no reset_method file)' {
        Test-Path "$pciDevices/0000:00:02.0/reset_method" | Should -BeFalse
        (Get-PciDevice -Root $root 00:02.0).ResetMethods | Should -BeNullOrEmpty
    }

    It 'throws PciDeviceNotFound for an absent address under -ErrorAction Stop' {
        { Get-PciDevice -Root $root 00:09.0 -ErrorAction Stop } | Should -Throw -ErrorId 'PciDeviceNotFound,VirtTools.Commands.GetPciDeviceCommand'
    }

    It 'reports each unusable address as its own non-terminating error, and lists the others' {
        $found = Get-PciDevice -Root $root 00:02.0, 00:09.0, not-an-address -ErrorVariable failures -ErrorAction SilentlyContinue
        $found.Address | Should -Be '0000:00:02.0'
        $failures | Should -HaveCount 2
        $failures.FullyQualifiedErrorId | Should -Be 'PciDeviceNotFound,VirtTools.Commands.GetPciDeviceCommand', 'PciAddressInvalid,VirtTools.Commands.GetPciDeviceCommand'
        $failures.CategoryInfo.Category | Should -Be 'ObjectNotFound', 'InvalidArgument'
        $failures.TargetObject | Should -Be '00:09.0', 'not-an-address'
    }

    It 'declares PciDevice as its output type, and writes one' {
        (Get-Command Get-PciDevice).OutputType.Type | Should -Be ([VirtTools.Pci.PciDevice])
        Get-PciDevice -Root $root 00:02.0 | Should -BeOfType ([VirtTools.Pci.PciDevice])
    }

    It 'shows the default table with its column headers' {
        $table = Get-PciDevice -Root $root | Out-String -Width 200
        $table | Should -Match '(?m)^Address\s+Id\s+Class\s+Driver\s+Irq\s+Pin\s+Msi\s+Group\s+Name\s*$'
        $nic = Get-PciDevice -Root $root 00:02.0
        # The captured tree has no pci.ids: the name is this machine's, if it has one (NameSource says which).
        $table | Should -Match ('(?m)^0000:00:02\.0\s+8086:100e\s+0x020000\s+vfio-pci\s+22\s+A\s+2\s*' + [regex]::Escape($nic.Name) + '\s*$')
        $xhci = Get-PciDevice -Root $root 00:01.0
        $table | Should -Match ('(?m)^0000:00:01\.0\s+1b36:000d\s+0x0c0330\s+xhci_hcd\s+21\s+A\s+3 MsiX\s+1\s*' + [regex]::Escape($xhci.Name) + '\s*$')
    }
}

Describe 'Get-IommuGroup' {
    It 'lists the groups of sys/kernel/iommu_groups' {
        (Get-IommuGroup -Root $root).Group | Should -Be (Get-ChildItem "$root/sys/kernel/iommu_groups" -Name | ForEach-Object { [int] $_ } | Sort-Object)
    }

    It 'takes functions from Get-PciDevice and writes each of their groups once' {
        $groups = Get-PciDevice -Root $root | Get-IommuGroup
        $groups.Group | Should -Be (Get-IommuGroup -Root $root).Group
    }

    It 'names the members each group folder links to' {
        $members = Get-ChildItem "$root/sys/kernel/iommu_groups/4/devices" -Name | Sort-Object
        (Get-IommuGroup -Root $root 4).Address | Should -Be $members
    }

    It 'finds the e1000 alone and viable in group 2' {
        $group = Get-PciDevice -Root $root -Class 0x0200 | Get-IommuGroup
        $group.Group | Should -Be 2
        $group.IsViable | Should -BeTrue
    }

    It 'says why a group with a member on a host driver is not viable' {
        $group = Get-IommuGroup -Root $root 1
        $group.IsViable | Should -BeFalse
        $group.Problems | Should -Match 'xhci_hcd'
    }

    It 'reports a group that does not exist as IommuGroupNotFound with the number as target' {
        Get-IommuGroup -Root $root 2, 42 -ErrorVariable failures -ErrorAction SilentlyContinue | Should -HaveCount 1
        $failures[0].FullyQualifiedErrorId | Should -Be 'IommuGroupNotFound,VirtTools.Commands.GetIommuGroupCommand'
        $failures[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $failures[0].TargetObject | Should -Be 42
    }

    It 'declares IommuGroup as its output type, and writes one' {
        (Get-Command Get-IommuGroup).OutputType.Type | Should -Be ([VirtTools.Pci.IommuGroup])
        Get-IommuGroup -Root $root 2 | Should -BeOfType ([VirtTools.Pci.IommuGroup])
    }

    It 'shows the default table with its column headers' {
        Get-IommuGroup -Root $root | Out-String -Width 200 | Should -Match '(?m)^Group\s+Viable\s+Address\s+Problems\s*$'
    }
}

Describe 'Get-PciIrqShare' {
    It 'wires the SATA and SMBus functions to IRQ 10, which no handler holds, so it is not shared' {
        $line = Get-PciDevice -Root $root | Get-PciIrqShare | Where-Object Irq -eq 10
        $line.Address | Should -Be '0000:00:1f.2', '0000:00:1f.3'
        $line.Irq | Should -Be (Get-Content "$pciDevices/0000:00:1f.2/irq")
        $line.Irq | Should -Be (Get-Content "$pciDevices/0000:00:1f.3/irq")
        $line.Handlers | Should -BeNullOrEmpty
        $line.HandlerSource | Should -BeLike 'inferred from drivers*'   # the capture carries no /sys/kernel/irq
        $line.Shared | Should -BeFalse
        $line.Blocks | Should -BeFalse
        Get-PciIrqShare -Root $root -SharedOnly | Should -BeNullOrEmpty
    }

    It 'writes a line once when several of its sharers are piped in' {
        Get-PciDevice -Root $root 00:1f.* | Get-PciIrqShare | Should -HaveCount 1
    }

    It 'declares PciIrqShare as its output type, and writes one' {
        (Get-Command Get-PciIrqShare).OutputType.Type | Should -Be ([VirtTools.Pci.PciIrqShare])
        Get-PciIrqShare -Root $root 00:1f.2 | Should -BeOfType ([VirtTools.Pci.PciIrqShare])
    }

    It 'shows the default table with its column headers' {
        Get-PciIrqShare -Root $root | Out-String -Width 200 | Should -Match '(?m)^\s*Irq\s+Shared\s+Blocks\s+Handlers\s+Address\s+Reason\s*$'
    }
}

Describe 'Test-PciPassthrough' {
    It 'gives each function a verdict that follows from its findings' {
        foreach ($readiness in Test-PciPassthrough -Root $root) {
            $results = $readiness.Findings.Result
            $expected = if ($results -contains 'Fail') { 'Blocked' } elseif ($results | Where-Object { $_ -ne 'Pass' }) { 'Warning' } else { 'Ready' }
            "$($readiness.Address) $($readiness.Verdict)" | Should -Be "$($readiness.Address) $expected"
        }
    }

    It 'blocks the host and ISA bridges by their class, as Set-PciPassthrough refuses them' {
        $blocked = Test-PciPassthrough -Root $root | Where-Object Verdict -eq 'Blocked'
        $blocked | ForEach-Object Address | Should -Be '0000:00:00.0', '0000:00:1f.0'
        foreach ($address in ($blocked | ForEach-Object Address)) {
            $bridge = (Test-PciPassthrough -Root $root $address).Findings | Where-Object Check -eq 'Bridge'
            $bridge.Result | Should -Be 'Fail'
            $bridge.Evidence | Should -BeLike "*/class: $(Get-Content "$pciDevices/$address/class");*"
            { Set-PciPassthrough -Root $root $address -WhatIf -ErrorAction Stop } | Should -Throw -ErrorId 'PciBridgeNotPassable*'
        }
    }

    It 'quotes the group reserved_regions file as it is' {
        $regions = (Test-PciPassthrough -Root $root 00:1f.2).Findings | Where-Object Check -eq 'ReservedRegions'
        $file = "$root/sys/kernel/iommu_groups/4/reserved_regions"
        $direct = Get-Content $file | Where-Object { $_ -match ' direct' }
        $regions.Evidence | Should -Be "/sys/kernel/iommu_groups/4/reserved_regions: $($direct -join ', ')"
        $regions.Result | Should -Be 'Warn'
    }

    It 'says the interrupt remapping of the capture is supported but not shown enabled (no kernel log, no IRQ files)' {
        $remapping = (Test-PciPassthrough -Root $root 00:02.0).Findings | Where-Object Check -eq 'InterruptRemapping'
        $remapping.Result | Should -Be 'Unknown'
        $remapping.Evidence | Should -BeLike "/sys/class/iommu/dmar0/intel-iommu/ecap: $(Get-Content "$root/sys/class/iommu/dmar0/intel-iommu/ecap") (IR bit 3 set)*"
    }

    It 'pipes from Get-PciDevice and into Set-PciPassthrough' {
        Get-PciDevice -Root $root -Class 0x0200 | Test-PciPassthrough | Set-PciPassthrough -WhatIf | ForEach-Object Address | Should -Be '0000:00:02.0'
    }

    It 'declares PciPassthroughReadiness as its output type, and shows its table' {
        (Get-Command Test-PciPassthrough).OutputType.Type | Should -Be ([VirtTools.Pci.PciPassthroughReadiness])
        Test-PciPassthrough -Root $root 00:00.0 | Out-String -Width 200 | Should -Match '(?m)^Address\s+Verdict\s+Findings\s*$'
    }
}

Describe 'Set-PciPassthrough' {
    It 'changes nothing with -WhatIf, -Persist included, when Get-PciDevice pipes the xHCI in' {
        $before = Get-TreeState $root
        Get-PciDevice -Root $root 00:01.0 | Set-PciPassthrough -Persist -WhatIf | Should -BeNullOrEmpty
        Compare-Object $before (Get-TreeState $root) | Should -BeNullOrEmpty
        (Get-PciDevice -Root $root 00:01.0).Driver | Should -Be 'xhci_hcd'
    }

    It 'outputs a function already on vfio-pci as it is, and writes nothing' {
        $before = Get-TreeState $root
        $nic = Get-PciDevice -Root $root -Class 0x0200 | Set-PciPassthrough -WhatIf
        $nic.Address | Should -Be '0000:00:02.0'
        $nic.Driver | Should -Be 'vfio-pci'
        Compare-Object $before (Get-TreeState $root) | Should -BeNullOrEmpty
    }

    It 'binds -Address from lspci''s short text, a piped function, and one that crossed PSSerializer' {
        (Set-PciPassthrough -Root $root '00:02.0' -WhatIf).Address | Should -BeOfType ([VirtTools.Pci.PciAddress])
        "$((Set-PciPassthrough -Root $root '00:02.0' -WhatIf).Address)" | Should -Be '0000:00:02.0'
        "$((Get-PciDevice -Root $root 00:02.0 | Set-PciPassthrough -WhatIf).Address)" | Should -Be '0000:00:02.0'
        $arrived = [System.Management.Automation.PSSerializer]::Deserialize(
            [System.Management.Automation.PSSerializer]::Serialize((Get-PciDevice -Root $root 00:02.0), 5))
        $arrived.Address | Should -BeOfType ([string])
        "$(($arrived | Set-PciPassthrough -Root $root -WhatIf).Address)" | Should -Be '0000:00:02.0'
    }

    It 'makes a text that is no PCI address a parameter binding error that names it' {
        $failure = { Set-PciPassthrough -Root $root 'eth0' -WhatIf -ErrorAction Stop } | Should -Throw -PassThru
        $failure.Exception | Should -BeOfType ([System.Management.Automation.ParameterBindingException])
        $failure.Exception.Message | Should -Match "'eth0' is not a PCI address"
    }

    It 'refuses pci-stub, which the captured kernel has not loaded, with DriverNotLoaded' {
        { Set-PciPassthrough -Root $root 00:01.0 -Driver pci-stub -WhatIf -ErrorAction Stop } |
            Should -Throw -ErrorId 'DriverNotLoaded,VirtTools.Commands.SetPciPassthroughCommand'
    }

    It 'reports an absent function as PciDeviceNotFound with the address as target' {
        Set-PciPassthrough -Root $root 00:09.0 -WhatIf -ErrorVariable failures -ErrorAction SilentlyContinue
        $failures[0].FullyQualifiedErrorId | Should -Be 'PciDeviceNotFound,VirtTools.Commands.SetPciPassthroughCommand'
        # -Address binds a PciAddress, so the target is the input as bound: the canonical address.
        $failures[0].TargetObject | Should -BeOfType ([VirtTools.Pci.PciAddress])
        "$($failures[0].TargetObject)" | Should -Be '0000:00:09.0'
    }

    It 'declares PciDevice as its output type' {
        (Get-Command Set-PciPassthrough).OutputType.Type | Should -Be ([VirtTools.Pci.PciDevice])
    }
}

Describe 'Remove-PciPassthrough' {
    It 'changes nothing with -WhatIf when Get-PciDevice pipes the vfio-bound e1000 in' {
        $before = Get-TreeState $root
        Get-PciDevice -Root $root -Driver vfio-pci | Remove-PciPassthrough -Persist -WhatIf | Should -BeNullOrEmpty
        Compare-Object $before (Get-TreeState $root) | Should -BeNullOrEmpty
        (Get-PciDevice -Root $root 00:02.0).Driver | Should -Be 'vfio-pci'
    }

    It 'outputs a function on its host driver as it is, and writes nothing' {
        $before = Get-TreeState $root
        (Remove-PciPassthrough -Root $root 00:01.0 -WhatIf).Driver | Should -Be 'xhci_hcd'
        Compare-Object $before (Get-TreeState $root) | Should -BeNullOrEmpty
    }

    It 'declares PciDevice as its output type' {
        (Get-Command Remove-PciPassthrough).OutputType.Type | Should -Be ([VirtTools.Pci.PciDevice])
    }
}
