# Host probes on a copy of the captured 6.1 tree: it holds /sys only (no /proc, /dev or /sys/module), so what depends
# on those is $null or Skip, and what /sys shows is read from it.
BeforeAll {
    . "$PSScriptRoot/Common.ps1"
    Import-Module $ModuleManifest -Force
    $root = New-FixtureCopy
}
AfterAll { Remove-FixtureCopy $root }

Describe 'Get-VirtHost' {
    BeforeAll { $virtHost = Get-VirtHost -Root $root }

    It 'counts the IOMMU groups of sys/kernel/iommu_groups and names the IOMMU of sys/class/iommu' {
        $virtHost.IommuEnabled | Should -BeTrue
        $virtHost.IommuGroupCount | Should -Be @(Get-ChildItem "$root/sys/kernel/iommu_groups").Count
        Get-ChildItem "$root/sys/class/iommu" -Name | Should -Be 'dmar0'
        $virtHost.IommuKind | Should -Be 'Intel VT-d'
    }

    It 'counts the vhci_hcd controllers and their ports' {
        $controllers = Get-ChildItem "$root/sys/devices/platform" -Directory -Filter 'vhci_hcd.*'
        $virtHost.VhciControllers | Should -Be $controllers.Count
        $virtHost.VhciPorts | Should -Be ([int] (Get-Content "$root/sys/devices/platform/vhci_hcd.0/nports"))
        $virtHost.UsbIpHostLoaded | Should -Be (Test-Path "$root/sys/bus/usb/drivers/usbip-host")
    }

    It 'gives $null for what needs /proc, /dev or /sys/module, which the capture lacks' {
        foreach ($folder in 'proc', 'dev', 'sys/module') { Test-Path "$root/$folder" | Should -BeFalse }
        $virtHost.CpuExtension | Should -BeNullOrEmpty
        $virtHost.KernelVersion | Should -BeNullOrEmpty
        $virtHost.KvmDeviceExists | Should -BeNullOrEmpty
        $virtHost.NestedVirtualization | Should -BeNullOrEmpty
    }

    It 'is not a Xen host: no /proc/xen, no sys/hypervisor' {
        $virtHost.XenRole | Should -Be 'None'
    }

    It 'declares VirtHost as its output type, and writes one' {
        (Get-Command Get-VirtHost).OutputType.Type | Should -Be ([VirtTools.Hypervisor.VirtHost])
        $virtHost | Should -BeOfType ([VirtTools.Hypervisor.VirtHost])
    }

    It 'shows the default table with its column headers' {
        $virtHost | Out-String -Width 200 |
            Should -Match '(?m)^Kernel\s+Cpu\s+RunningUnder\s+Kvm\s+Nested\s+Iommu\s+Groups\s+Xen\s+UsbIp\s+VhciPorts\s+Ksm\s*$'
    }

    It 'fails with RootNotFound when -Root does not exist' {
        $failure = { Get-VirtHost -Root "$root/absent" } | Should -Throw -ErrorId 'RootNotFound,VirtTools.Commands.Hypervisor.GetVirtHostCommand' -PassThru
        $failure.CategoryInfo.Category | Should -Be 'ObjectNotFound'
    }
}

Describe 'Test-VirtHost' {
    BeforeAll { $checks = Test-VirtHost -Root $root }

    It 'checks every area' {
        $checks.Area | Sort-Object -Unique | Should -Be 'IOMMU', 'KSM', 'KVM', 'USBIP'
    }

    It 'skips what the capture holds no evidence for, rather than failing it, and says how to find out' {
        $checks | Where-Object Result -eq 'Fail' | Should -BeNullOrEmpty
        $skipped = $checks | Where-Object Result -eq 'Skip'
        $skipped | Should -Not -BeNullOrEmpty
        $skipped | ForEach-Object { $_.Hint | Should -Not -BeNullOrEmpty -Because "'$($_.Name)' is skipped" }
    }

    It 'passes the IOMMU checks the capture proves' {
        $checks | Where-Object Area -eq 'IOMMU' | ForEach-Object Result | Should -Be 'Pass', 'Pass'
    }

    It 'runs only the areas -Area names' {
        (Test-VirtHost -Root $root -Area KSM, USBIP).Area | Sort-Object -Unique | Should -Be 'KSM', 'USBIP'
    }

    It 'refuses an area it does not know when binding' {
        { Test-VirtHost -Root $root -Area Hyper-V } | Should -Throw -ErrorId 'ParameterArgumentValidationError,VirtTools.Commands.Hypervisor.TestVirtHostCommand'
    }

    It 'declares VirtHostCheck as its output type, and writes them' {
        (Get-Command Test-VirtHost).OutputType.Type | Should -Be ([VirtTools.Hypervisor.VirtHostCheck])
        $checks | Should -BeOfType ([VirtTools.Hypervisor.VirtHostCheck])
    }

    It 'shows the default table with its column headers' {
        $checks | Out-String -Width 200 | Should -Match '(?m)^Area\s+Name\s+Result\s+Message\s*$'
    }
}
