# The module as a user gets it from a PowerShell repository: build.ps1 -Package makes VirtTools.<version>.nupkg, which
# PSResourceGet installs from a local file repository into a private CurrentUser scope (a child pwsh whose HOME and
# XDG folders are temporary), where Import-Module finds it by name.

BeforeAll {
    . $PSScriptRoot/Common.ps1
    . $PSScriptRoot/ChildPwsh.ps1
    $repositoryRoot = (Resolve-Path "$PSScriptRoot/../..").Path
    $script:Version = (Import-PowerShellDataFile "$repositoryRoot/VirtTools.psd1").ModuleVersion

    # The package build.ps1 -Package left in out/ when it is newer than the module folder under test; else make one.
    $package = "$repositoryRoot/out/VirtTools.$Version.nupkg"
    $moduleAssembly = Join-Path (Split-Path $ModuleManifest) 'VirtTools.dll'
    if (-not (Test-Path $package) -or (Get-Item $package).LastWriteTime -lt (Get-Item $moduleAssembly).LastWriteTime) {
        $built = & "$repositoryRoot/build.ps1" -Package | Select-String '^Package: (.+)$'
        $package = $built.Matches[0].Groups[1].Value
    }

    # A repository is a folder of packages; the private HOME holds the user's modules and PSResourceGet's settings.
    $script:Sandbox = (New-Item -ItemType Directory -Path (Join-Path ([IO.Path]::GetTempPath()) "virttools-package-$([guid]::NewGuid())")).FullName
    $repository = (New-Item -ItemType Directory -Path (Join-Path $Sandbox 'repository')).FullName
    Copy-Item $package $repository
    $script:PrivateHome = (New-Item -ItemType Directory -Path (Join-Path $Sandbox 'home')).FullName
    # They must exist: .NET reports a missing one as "", and PSResourceGet would keep its settings in the current folder.
    foreach ($folder in '.local/share', '.config', '.cache') { New-Item -ItemType Directory -Path (Join-Path $PrivateHome $folder) | Out-Null }
    $script:Fixture = New-FixtureCopy

    $script:Installed = Invoke-ChildPwsh -ArgumentList $repository, $Fixture -Environment @{
        HOME            = $PrivateHome
        XDG_DATA_HOME   = "$PrivateHome/.local/share"
        XDG_CONFIG_HOME = "$PrivateHome/.config"
        XDG_CACHE_HOME  = "$PrivateHome/.cache"
        # Unset, so the child computes its own module path from the private HOME.
        PSModulePath    = $null
    } -Script {
        param($Repository, $Root)
        Register-PSResourceRepository -Name VirtToolsLocal -Uri $Repository -Trusted
        Install-PSResource -Name VirtTools -Repository VirtToolsLocal -Scope CurrentUser
        Import-Module VirtTools
        $module = Get-Module VirtTools
        $examples = Get-Help Get-UsbDevice -Examples
        Export-VirtHostConfig -Root $Root -Path ~/host.yaml
        @{
            ModuleBase    = $module.ModuleBase
            Version       = $module.Version.ToString()
            # As text: the child's answer comes back through ConvertTo-Json, which writes a PciAddress as its numbers.
            PciAddresses  = @(Get-PciDevice -Root $Root | ForEach-Object { "$($_.Address)" })
            PagesToScan   = (Get-VirtHostConfig ~/host.yaml).Ksm.PagesToScan
            ExampleCount  = @($examples.examples.example).Count
            ExamplesText  = $examples | Out-String -Width 200
        }
    }
}

AfterAll {
    Remove-FixtureCopy $script:Fixture
    if ($script:Sandbox) { Remove-Item -Recurse -Force $script:Sandbox }
}

Describe 'VirtTools installed with Install-PSResource from a local repository' {
    It 'lands in the CurrentUser module folder of the private HOME, at the manifest version' {
        $Installed.ModuleBase | Should -Be (Join-Path $PrivateHome ".local/share/powershell/Modules/VirtTools/$Version")
        $Installed.Version | Should -Be $Version
    }

    It 'imports by name and reads the tree it is given' {
        $expected = Get-ChildItem (Join-Path $Fixture 'sys/bus/pci/devices') | ForEach-Object Name
        $Installed.PciAddresses | Sort-Object | Should -Be ($expected | Sort-Object)
    }

    It 'carries YamlDotNet: a host profile exports and reads back' {
        $Installed.PagesToScan | Should -Be ([int](Get-Content -Raw (Join-Path $Fixture 'sys/kernel/mm/ksm/pages_to_scan')))
    }

    It 'shows the help of Get-UsbDevice with every example the help file has' {
        $helpFile = [xml](Get-Content -Raw (Join-Path (Split-Path $ModuleManifest) 'en-US/VirtTools.dll-Help.xml'))
        $command = $helpFile.helpItems.command | Where-Object { $_.details.name -eq 'Get-UsbDevice' }
        $Installed.ExampleCount | Should -Be @($command.examples.example).Count
        $Installed.ExampleCount | Should -BeGreaterThan 0
        $Installed.ExamplesText | Should -Match 'Example 1'
    }
}
